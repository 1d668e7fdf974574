import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { Endpoint } from "../checks/endpoint.ts";
import { LineChannel } from "../checks/line-channel.ts";
import { trustContext } from "../checks/trust-store.ts";
import type { MailboxLogin } from "./mailbox-login.ts";

/*
 * A small POP3 client (RFC 1939, CAPA and STLS from RFC 2449/2595, AUTH from RFC 5034) for
 * what fetch mode needs: log in, list unique ids, read a message's header with TOP, delete,
 * QUIT. Every step has a deadline. The certificate is verified (the server's name, the
 * configured or system CAs); unlike a service check, a mailbox login never goes to a server
 * that is not who it says it is.
 */

/** A POP3 step failed; `reply` is the server's -ERR line when it answered one. */
export class Pop3Error extends Error {
  override readonly name = "Pop3Error";
  constructor(
    message: string,
    readonly reply?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A header larger than this is not a probe's; reading stops there. */
const MAX_HEADER_BYTES = 256 * 1024;
/** Unique-id listings are read up to this many messages. */
const MAX_LISTING = 100_000;

export class Pop3Client {
  private constructor(
    private channel: LineChannel,
    private readonly timeoutMs: number,
  ) {}

  /** Connects (TLS at once or after STLS, as the endpoint says), reads the greeting and logs in. */
  static async open(
    endpoint: Endpoint,
    login: MailboxLogin,
    options: { readonly caFile?: string; readonly timeoutMs: number },
  ): Promise<Pop3Client> {
    const servername = endpoint.tlsServerName ?? endpoint.host;
    const secure = (socket?: Socket) =>
      tlsConnect({
        // host as well when upgrading a socket: Node checks the certificate against it.
        host: endpoint.host,
        ...(socket ? { socket } : { port: endpoint.port }),
        // SNI carries host names only (RFC 6066 §3); an IP literal is checked against the IP SANs.
        ...(isIP(servername) ? {} : { servername }),
        secureContext: trustContext(options.caFile),
      });
    const first =
      endpoint.tls === "implicit" ? secure() : netConnect({ host: endpoint.host, port: endpoint.port });
    const client = new Pop3Client(new LineChannel(first), options.timeoutMs);
    try {
      await client.expectOk("greeting");
      if (endpoint.tls === "starttls" && endpoint.startTls !== "off") {
        const offered = (await client.multiline("CAPA").catch(() => [])).some((line) =>
          /^STLS\b/i.test(line),
        );
        if (offered || endpoint.startTls === "required") {
          await client.command("STLS");
          const upgraded = secure(client.channel.detach());
          client.channel = new LineChannel(upgraded);
          await new Promise<void>((resolve, reject) => {
            upgraded.once("secureConnect", resolve);
            upgraded.once("error", reject);
          });
        }
      }
      await client.login(login);
      return client;
    } catch (error) {
      client.destroy();
      throw error;
    }
  }

  /** Unique id (UIDL) by message number, the maildrop as it was at login. */
  async uniqueIds(): Promise<Map<number, string>> {
    const ids = new Map<number, string>();
    for (const line of await this.multiline("UIDL", MAX_LISTING)) {
      const match = /^(\d+) (\S+)$/.exec(line);
      if (match) ids.set(Number(match[1]), match[2] as string);
    }
    return ids;
  }

  /** The header lines of message `number` (TOP n 0), cut at MAX_HEADER_BYTES. */
  async header(number: number): Promise<string[]> {
    const lines: string[] = [];
    let bytes = 0;
    for (const line of await this.multiline(`TOP ${number} 0`)) {
      if (line === "") break;
      bytes += line.length + 2;
      if (bytes > MAX_HEADER_BYTES) break;
      lines.push(line);
    }
    return lines;
  }

  /** Marks message `number` deleted; the server removes it at QUIT. */
  async delete(number: number): Promise<void> {
    await this.command(`DELE ${number}`);
  }

  /** QUIT: the deletions take effect (RFC 1939 §6, the UPDATE state). */
  async quit(): Promise<void> {
    try {
      await this.command("QUIT");
    } finally {
      this.destroy();
    }
  }

  destroy(): void {
    this.channel.socket.destroy();
  }

  private async login(login: MailboxLogin): Promise<void> {
    if (login.kind === "password") {
      await this.command(`USER ${login.user}`);
      await this.command(`PASS ${login.password.reveal()}`, "PASS");
      return;
    }
    // RFC 5034 with Google's and Microsoft's XOAUTH2 payload: user, then the bearer token.
    const token = (await login.accessToken()).reveal();
    const payload = Buffer.from(`user=${login.user}\x01auth=Bearer ${token}\x01\x01`).toString("base64");
    const reply = await this.send("AUTH XOAUTH2");
    if (!reply.startsWith("+")) throw new Pop3Error("the server refused AUTH XOAUTH2", reply);
    const result = await this.send(payload);
    if (result.startsWith("+ ")) {
      // A failure with an error challenge (RFC 7628 §3.2.3): answer it empty to get the -ERR.
      const final = await this.send("");
      throw new Pop3Error("XOAUTH2 login failed", final);
    }
    if (!result.startsWith("+OK")) throw new Pop3Error("XOAUTH2 login failed", result);
  }

  /** Sends one command and wants +OK; `shown` replaces the command in errors (PASS carries the password). */
  private async command(text: string, shown = text): Promise<string> {
    const reply = await this.send(text);
    if (!reply.startsWith("+OK")) throw new Pop3Error(`${shown} refused`, reply);
    return reply;
  }

  private async send(text: string): Promise<string> {
    this.channel.write(text);
    return this.readLine();
  }

  private async expectOk(step: string): Promise<void> {
    const reply = await this.readLine();
    if (!reply.startsWith("+OK")) throw new Pop3Error(`${step} refused`, reply);
  }

  /** A multi-line reply's lines, dot-unstuffed, up to `maxLines`. */
  private async multiline(text: string, maxLines = 10_000): Promise<string[]> {
    await this.command(text);
    const lines: string[] = [];
    for (;;) {
      const line = await this.readLine();
      if (line === ".") return lines;
      if (lines.length >= maxLines) throw new Pop3Error(`${text}: more than ${maxLines} lines`);
      lines.push(line.startsWith(".") ? line.slice(1) : line);
    }
  }

  private async readLine(): Promise<string> {
    try {
      return await this.channel.readLine(Date.now() + this.timeoutMs);
    } catch (cause) {
      throw new Pop3Error((cause as Error).message, undefined, { cause });
    }
  }
}
