import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createTransport } from "nodemailer";
import type { SentMessageInfo } from "nodemailer/lib/smtp-transport";
import { headerValue, parseMessage } from "../../core/wire/parse-headers.ts";

/*
 * A stand-in for SES's sending API (v1, the Query protocol) that a real SESClient talks to over
 * HTTP. `SendRawEmail` relays the raw message, byte for byte, over SMTP to a real MTA (the demo
 * host's Postfix) and answers as SES does (a SendRawEmailResponse with a MessageId) only once that
 * MTA took the message; without an MTA it keeps the message. `GetSendQuota` answers the quota it
 * was given (a new production account's by default).
 *
 * What it mirrors: the request (form-encoded Action, Version, Source, Destinations.member.N,
 * RawMessage.Data in base64, ConfigurationSetName), the XML answers and SES's error shape
 * (ErrorResponse/Error with Type, Code, Message), Source as the envelope sender, and when Source
 * or Destinations are left out, the From and To/Cc/Bcc addresses of the message instead. When
 * told: throttling as SES answers a send over MaxSendRate (400 Throttling, "Maximum sending rate
 * exceeded."); verified identities, where an unverified Source (and in the sandbox an unverified
 * recipient) is MessageRejected "Email address is not verified. The following identities failed
 * the check in region ...: <addresses>"; and configuration sets that exist
 * (ConfigurationSetDoesNotExist otherwise).
 *
 * What it does not: real SES sends with its own MAIL FROM (<id>@<region>.amazonses.com, or a
 * custom MAIL FROM subdomain) and forwards the bounces it receives there to Source by email
 * (feedback forwarding), as a DSN of its own with the original message attached; here Source is
 * the MAIL FROM, so the MTA's DSN goes straight to Source. Real SES also adds DKIM-Signature
 * fields and may replace Message-ID; here nothing changes. Real SES accepts first and delivers
 * later, so a recipient the MTA refuses becomes a bounce; here the relay is synchronous and a
 * refusal is the API's MessageRejected. Signatures are not checked (any SigV4 Authorization
 * header will do), quotas are not counted down, and throttling comes only when asked for.
 */

const XML_NAMESPACE = "http://ses.amazonaws.com/doc/2010-12-01/";
const API_VERSION = "2010-12-01";
/** Bounds what one request may hold: base64 of a message well over anything a probe is. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const ADDRESS = /[^\s<>,;:"()[\]]+@[^\s<>,;:"()[\]]+/g;

export interface SesRelayTarget {
  readonly host: string;
  readonly port: number;
  /** The MTA's CA (the demo host's): STARTTLS is used when offered, and verified with this. */
  readonly ca: string | Buffer;
  /** The name given in EHLO; SES's outbound hosts are named like a1-2.smtp-out.<region>.amazonses.com. */
  readonly heloName: string;
}

/** GetSendQuota's answer. */
export interface SendQuotaAnswer {
  readonly max24HourSend: number;
  readonly maxSendRate: number;
  readonly sentLast24Hours?: number;
}

/** A new account's quota in production, and in the sandbox. */
export const PRODUCTION_QUOTA: SendQuotaAnswer = { max24HourSend: 50_000, maxSendRate: 14 };
export const SANDBOX_QUOTA: SendQuotaAnswer = { max24HourSend: 200, maxSendRate: 1 };

export interface SesSendingStandInOptions {
  /** Relays each accepted message to this MTA; without one, the stand-in keeps it. */
  readonly relayTo?: SesRelayTarget;
  /**
   * PRODUCTION_QUOTA by default, SANDBOX_QUOTA in the sandbox; "denied" answers GetSendQuota as
   * SES does a role without ses:GetSendQuota.
   */
  readonly quota?: SendQuotaAnswer | "denied";
  /** The sandbox: every recipient must be a verified identity too. */
  readonly sandbox?: boolean;
  /** Addresses and domains verified as identities; when given, Source must be one. */
  readonly verifiedIdentities?: readonly string[];
  /** The configuration sets that exist; when given, any other ConfigurationSetName is refused. */
  readonly configurationSets?: readonly string[];
  /** Names the region in SES's messages. */
  readonly region?: string;
}

/** One message the stand-in accepted. */
export interface RelayedMessage {
  readonly messageId: string;
  readonly source: string;
  readonly destinations: readonly string[];
  readonly raw: Buffer;
  readonly configurationSetName?: string;
  /** The MTA's answer to the end of DATA, or the stand-in's own when it relays nowhere. */
  readonly response: string;
}

/** One request as the stand-in answered it. */
export interface SesRequest {
  readonly action: string;
  /** "ok", or the error code answered. */
  readonly outcome: string;
}

export interface SesSendingStandIn {
  /** For SESClient's `endpoint`. */
  readonly endpoint: string;
  /** What was accepted, oldest first. */
  readonly relayed: readonly RelayedMessage[];
  /** Every request, oldest first. */
  readonly requests: readonly SesRequest[];
  /** Answers the next `count` SendRawEmail requests with SES's throttling error. */
  throttleNext(count: number): void;
  close(): Promise<void>;
}

/** An SES API error as SES writes it; `type` is Sender for the caller's fault, Receiver for SES's. */
class SesApiError extends Error {
  override readonly name = "SesApiError";
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    readonly type: "Sender" | "Receiver" = "Sender",
  ) {
    super(message);
  }
}

export async function startSesSendingStandIn(
  options: SesSendingStandInOptions = {},
): Promise<SesSendingStandIn> {
  const { relayTo, sandbox = false } = options;
  const quota = options.quota ?? (sandbox ? SANDBOX_QUOTA : PRODUCTION_QUOTA);
  const region = (options.region ?? "eu-west-1").toUpperCase();
  const relayed: RelayedMessage[] = [];
  const requests: SesRequest[] = [];
  let throttled = 0;
  const transport =
    relayTo &&
    createTransport({
      host: relayTo.host,
      port: relayTo.port,
      secure: false,
      name: relayTo.heloName,
      tls: { ca: relayTo.ca },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });

  /** The MTA's answer once it took the message; its refusal or failure as the SES error. */
  const relay = async (envelope: { from: string; to: string[] }, raw: Buffer): Promise<string> => {
    if (!transport) return "250 kept by the SES stand-in (no relay)";
    let info: SentMessageInfo;
    try {
      info = await transport.sendMail({ envelope, raw });
    } catch (error) {
      throw asSesError(error as SmtpFailure);
    }
    // Some recipients refused while others were taken: a refusal too, as the relay is synchronous.
    if (info.rejected.length > 0) {
      throw asSesError(info.rejectedErrors?.[0] ?? { responseCode: 550, message: "recipient refused" });
    }
    return info.response;
  };

  const sendRawEmail = async (form: URLSearchParams): Promise<string> => {
    const data = form.get("RawMessage.Data");
    if (data === null || data === "") {
      throw new SesApiError(400, "InvalidParameterValue", "RawMessage.Data is required");
    }
    const raw = Buffer.from(data, "base64");
    const { fields } = parseMessage(raw);
    const source = addressIn(form.get("Source") ?? "") ?? addressIn(headerValue(fields, "From") ?? "");
    if (source === undefined) throw new SesApiError(400, "InvalidParameterValue", "Missing final '@domain'");
    const listed = [...form.entries()].filter(([name]) => /^Destinations\.member\.\d+$/.test(name));
    const destinations =
      listed.length > 0
        ? listed.map(([, value]) => value)
        : fields
            .filter((field) => /^(to|cc|bcc)$/i.test(field.name))
            .flatMap((field) => field.value.match(ADDRESS) ?? []);
    if (destinations.length === 0) {
      throw new SesApiError(400, "InvalidParameterValue", "Missing required header 'To'.");
    }
    const configurationSetName = form.get("ConfigurationSetName") ?? undefined;
    if (
      configurationSetName !== undefined &&
      options.configurationSets !== undefined &&
      !options.configurationSets.includes(configurationSetName)
    ) {
      throw new SesApiError(
        400,
        "ConfigurationSetDoesNotExist",
        `Configuration set <${configurationSetName}> does not exist.`,
      );
    }
    if (throttled > 0) {
      throttled -= 1;
      throw new SesApiError(400, "Throttling", "Maximum sending rate exceeded.");
    }
    const unverified = [source, ...(sandbox ? destinations : [])].filter((address) => !isVerified(address));
    if (unverified.length > 0) {
      throw new SesApiError(
        400,
        "MessageRejected",
        `Email address is not verified. The following identities failed the check in region ${region}: ${unverified.join(", ")}`,
      );
    }
    const response = await relay({ from: source, to: destinations }, raw);
    const messageId = sesMessageId();
    relayed.push({
      messageId,
      source,
      destinations,
      raw,
      response,
      ...(configurationSetName === undefined ? {} : { configurationSetName }),
    });
    return xml(
      "SendRawEmailResponse",
      `<SendRawEmailResult><MessageId>${messageId}</MessageId></SendRawEmailResult>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`,
    );
  };

  /** An address is verified by itself or by its domain; with no list, everything is. */
  const isVerified = (address: string): boolean => {
    if (options.verifiedIdentities === undefined && !sandbox) return true;
    const verified = new Set((options.verifiedIdentities ?? []).map((identity) => identity.toLowerCase()));
    const lower = address.toLowerCase();
    return verified.has(lower) || verified.has(lower.slice(lower.lastIndexOf("@") + 1));
  };

  const getSendQuota = (): string => {
    if (quota === "denied") {
      throw new SesApiError(
        403,
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/ProberRole/prober is not authorized to perform: ses:GetSendQuota",
      );
    }
    return xml(
      "GetSendQuotaResponse",
      `<GetSendQuotaResult><Max24HourSend>${quota.max24HourSend}</Max24HourSend>` +
        `<MaxSendRate>${quota.maxSendRate}</MaxSendRate>` +
        `<SentLast24Hours>${quota.sentLast24Hours ?? 0}</SentLast24Hours></GetSendQuotaResult>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`,
    );
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let action = "(none)";
    try {
      if (request.method !== "POST") throw new SesApiError(405, "InvalidAction", "use POST");
      if (!/^AWS4-HMAC-SHA256 Credential=/.test(request.headers.authorization ?? "")) {
        throw new SesApiError(403, "MissingAuthenticationToken", "Request is missing Authentication Token");
      }
      const form = new URLSearchParams((await readBody(request)).toString("utf8"));
      if (form.get("Version") !== API_VERSION) {
        throw new SesApiError(400, "InvalidParameterValue", `unsupported Version ${form.get("Version")}`);
      }
      action = form.get("Action") ?? "(none)";
      if (action === "GetSendQuota") {
        answer(response, 200, getSendQuota());
      } else if (action === "SendRawEmail") {
        answer(response, 200, await sendRawEmail(form));
      } else {
        throw new SesApiError(
          400,
          "InvalidAction",
          `The action ${action} is not valid for this web service.`,
        );
      }
      requests.push({ action, outcome: "ok" });
    } catch (error) {
      const apiError =
        error instanceof SesApiError
          ? error
          : new SesApiError(500, "InternalFailure", (error as Error).message, "Receiver");
      requests.push({ action, outcome: apiError.code });
      answer(
        response,
        apiError.httpStatus,
        xml(
          "ErrorResponse",
          `<Error><Type>${apiError.type}</Type><Code>${apiError.code}</Code>` +
            `<Message>${escapeXml(apiError.message)}</Message></Error><RequestId>${randomUUID()}</RequestId>`,
        ),
      );
    }
  };

  const server = createServer((request, response) => void handle(request, response));
  const listening = once(server, "listening");
  server.listen(0, "127.0.0.1");
  await listening;
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    relayed,
    requests,
    throttleNext: (count) => {
      throttled = count;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      transport?.close();
    },
  };
}

interface SmtpFailure {
  readonly responseCode?: number;
  readonly response?: string;
  readonly message: string;
}

function asSesError(failure: SmtpFailure): SesApiError {
  const reply = failure.response ?? failure.message;
  // A 5xx refusal is final: SES's word for a message it will not send is MessageRejected.
  // Anything else (4xx, no connection) is SES's own trouble, which its clients retry.
  if (failure.responseCode !== undefined && failure.responseCode >= 500) {
    return new SesApiError(400, "MessageRejected", `the MTA refused the message: ${reply}`);
  }
  return new SesApiError(503, "ServiceUnavailable", `cannot relay: ${reply}`, "Receiver");
}

/** The address of "Name <a@b>" or "a@b"; undefined when there is none. */
function addressIn(text: string): string | undefined {
  return (/<([^<>]+@[^<>]+)>/.exec(text)?.[1] ?? text.match(ADDRESS)?.[0])?.trim();
}

/** Shaped like SES v1's: 16 hex digits (version, region and the time in ms), a UUID, "-000000". */
function sesMessageId(): string {
  return `0102${Date.now().toString(16).padStart(12, "0")}-${randomUUID()}-000000`;
}

function xml(root: string, inner: string): string {
  return `<?xml version="1.0"?>\n<${root} xmlns="${XML_NAMESPACE}">${inner}</${root}>\n`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function answer(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": randomUUID() });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_BODY_BYTES) throw new SesApiError(413, "InvalidParameterValue", "request too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
