import { randomInt } from "node:crypto";
import { once } from "node:events";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from "smtp-server";
import { asRealS3Event, type S3StandIn } from "./aws-standins.ts";

/*
 * A stand-in for SES email receiving with the stack's receipt rule (lib/constructs/inbound-mail.ts):
 * an SMTP server on 127.0.0.1 that takes mail for the rule's domains, over TLS only (the rule's
 * TlsPolicy Require), stores each message in S3 as SES's S3 action does, and then, as the
 * bucket's notification would, invokes the correlator with that object's S3 event.
 *
 * As stored by SES: the object key is the rule's prefix and SES's own message id (the id in the
 * Received field it writes); the object is the message as received over SMTP, byte for byte,
 * below the fields SES puts on top: Return-Path (the MAIL FROM), its Received field
 *
 *   Received: from <helo> (<helo> [<client ip>])
 *    by inbound-smtp.<region>.amazonaws.com with SMTP id <message id>
 *    for <recipient>;
 *    Fri, 11 Sep 2015 20:32:33 +0000 (UTC)
 *
 * (no "for" clause when the message had several recipients; the client's name is its HELO name
 * twice, as this machine does no reverse lookups) and the verdicts of the rule's spam and virus
 * scan. Real SES goes on with Received-SPF, Authentication-Results, X-SES-RECEIPT and
 * X-SES-DKIM-SIGNATURE: DNS verdicts and AWS signatures this machine cannot make, and fields
 * the correlator does not read; they are left out rather than faked.
 *
 * The 250 goes out once the object is stored, not after the correlator: SES answers the sending
 * MTA when its actions are done, and S3 invokes Lambda asynchronously, so a slow or failing
 * correlator never makes the MTA wait or retry. A failed store answers 451, and the MTA keeps
 * the message. Lambda's own retries of a failed invocation are not played: each invocation's
 * result or error is kept for the test to look at.
 */

/** SES stores messages of up to 40 MB in S3; larger ones bounce. */
const MAX_MESSAGE_BYTES = 40 * 1024 * 1024;
/** SES's message ids (and so the object names) are 40 characters of lower-case base32hex. */
const MESSAGE_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuv";

export interface SesReceiptStandInOptions {
  /** Fixed: the demo host's transport_maps name it. */
  readonly port: number;
  /** The receipt rule's recipient condition: every address at these domains. */
  readonly domains: readonly string[];
  readonly region: string;
  readonly s3: S3StandIn;
  readonly objectKeyPrefix: string;
  /** The certificate offered with STARTTLS. */
  readonly tls: { readonly key: string; readonly cert: string };
  /** What S3 invokes for every new object (the correlator handler). */
  readonly invoke: (event: unknown) => Promise<unknown>;
}

/** What an invocation came to. */
export type Invocation = { readonly result: unknown } | { readonly error: unknown };

export interface ReceivedMessage {
  readonly messageId: string;
  readonly key: string;
  readonly mailFrom: string;
  readonly recipients: readonly string[];
  /** The object as stored: SES's fields, then the message. */
  readonly stored: Buffer;
  /** Settles (never rejects) once the invocation for the object's event has finished. */
  readonly invocation: Promise<Invocation>;
}

export interface SesReceiptStandIn {
  /** Every message stored so far, oldest first. */
  readonly received: readonly ReceivedMessage[];
  /** Resolves once every invocation started so far has finished. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export async function startSesReceiptStandIn(options: SesReceiptStandInOptions): Promise<SesReceiptStandIn> {
  const { s3, region } = options;
  const domains = new Set(options.domains.map((domain) => domain.toLowerCase()));
  const received: ReceivedMessage[] = [];

  const store = async (session: SMTPServerSession, message: Buffer): Promise<string> => {
    const messageId = sesMessageId();
    const key = `${options.objectKeyPrefix}${messageId}`;
    const mailFrom = session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address;
    const recipients = session.envelope.rcptTo.map((rcpt) => rcpt.address);
    const fields = sesFields({
      mailFrom,
      recipients,
      helo: session.hostNameAppearsAs,
      clientIp: session.remoteAddress,
      region,
      messageId,
      at: new Date(),
    });
    const stored = Buffer.concat([Buffer.from(fields, "latin1"), message]);
    const notified = s3.nextEvent(key);
    try {
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: stored }));
    } catch (error) {
      notified.catch(() => {});
      throw error;
    }
    const invocation: Promise<Invocation> = notified
      .then((event) => options.invoke(asRealS3Event(event)))
      .then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
    received.push({ messageId, key, mailFrom, recipients, stored, invocation });
    return messageId;
  };

  const server = new SMTPServer({
    secure: false,
    key: options.tls.key,
    cert: options.tls.cert,
    name: `inbound-smtp.${region}.amazonaws.com`,
    banner: "Amazon SES stand-in",
    size: MAX_MESSAGE_BYTES,
    authOptional: true,
    disabledCommands: ["AUTH"],
    disableReverseLookup: true,
    // Bounds close(): Postfix may hold a delivered-to connection open in its cache for a while.
    closeTimeout: 5_000,
    logger: false,
    onMailFrom(_address, session, callback) {
      // RFC 3207 §4: a server that requires TLS answers 530 until STARTTLS.
      if (!session.secure) return callback(smtpError(530, "5.7.0 Must issue a STARTTLS command first"));
      callback();
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const domain = address.address.slice(address.address.lastIndexOf("@") + 1).toLowerCase();
      if (domains.has(domain)) return callback();
      // No receipt rule covers the address.
      callback(smtpError(550, "5.1.1 Requested action not taken: mailbox unavailable"));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        if (stream.sizeExceeded) return callback(smtpError(552, "5.3.4 Message too long"));
        store(session, Buffer.concat(chunks)).then(
          (messageId) => callback(null, `Ok ${messageId}`),
          (error: unknown) => callback(smtpError(451, `4.3.0 cannot store the message: ${String(error)}`)),
        );
      });
    },
  });
  server.on("error", () => {});
  const listening = once(server.server, "listening");
  server.listen(options.port, "127.0.0.1");
  await Promise.race([
    listening,
    once(server.server, "error").then(([error]) => {
      throw new Error(
        `the SES receipt stand-in cannot listen on 127.0.0.1:${options.port}: ${String(error)}`,
      );
    }),
  ]);
  return {
    received,
    settled: async () => {
      await Promise.all(received.map((message) => message.invocation));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The fields SES writes on top of a stored message, CRLF-terminated. */
function sesFields(input: {
  mailFrom: string;
  recipients: readonly string[];
  helo: string;
  clientIp: string;
  region: string;
  messageId: string;
  at: Date;
}): string {
  const clauses = [
    `from ${input.helo} (${input.helo} [${input.clientIp}])`,
    `by inbound-smtp.${input.region}.amazonaws.com with SMTP id ${input.messageId}`,
  ];
  if (input.recipients.length === 1) clauses.push(`for ${input.recipients[0]}`);
  const date = input.at.toUTCString().replace(/ GMT$/, " +0000 (UTC)");
  return [
    `Return-Path: <${input.mailFrom}>`,
    `Received: ${clauses.join("\r\n ")};\r\n ${date}`,
    "X-SES-Spam-Verdict: PASS",
    "X-SES-Virus-Verdict: PASS",
    "",
  ].join("\r\n");
}

function sesMessageId(): string {
  return Array.from({ length: 40 }, () => MESSAGE_ID_ALPHABET[randomInt(MESSAGE_ID_ALPHABET.length)]).join(
    "",
  );
}

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}
