import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import type { TlsIdentity } from "./line-server.ts";

export interface SmtpPeer {
  readonly port: number;
  /** Serves another certificate from the next handshake on (a certificate renewed in place). */
  setIdentity(identity: TlsIdentity): void;
  close(): Promise<void>;
}

/**
 * A real SMTP server (the smtp-server library) on 127.0.0.1, port 0: STARTTLS or implicit
 * TLS with the given identity, AUTH PLAIN/LOGIN accepting one user.
 */
export async function startSmtpPeer(options: {
  identity: TlsIdentity;
  implicitTls?: boolean;
  hideStartTls?: boolean;
  user?: string;
  password?: string;
  authOptional?: boolean;
  /** Refuse RCPT TO at this domain with 554 5.7.1, as a server that does not relay for it. */
  refuseRelayTo?: string;
  /** Listen on this port (a restart on the same port); 0, any free one, by default. */
  port?: number;
}): Promise<SmtpPeer> {
  const server = new SMTPServer({
    secure: options.implicitTls ?? false,
    key: options.identity.key,
    cert: options.identity.cert,
    name: "mail.example.test",
    banner: "Scout test peer",
    hideSTARTTLS: options.hideStartTls ?? false,
    authMethods: ["PLAIN", "LOGIN"],
    authOptional: options.authOptional ?? true,
    logger: false,
    // close() ends open sessions at once instead of after smtp-server's 30 s grace.
    closeTimeout: 50,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password)
        return callback(null, { user: auth.username });
      return callback(Object.assign(new Error("Authentication credentials invalid"), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      const refused = options.refuseRelayTo;
      if (refused && address.address.toLowerCase().endsWith(`@${refused}`)) {
        const error = new Error(`5.7.1 <${address.address}>: Relay access denied`);
        return callback(Object.assign(error, { responseCode: 554 }));
      }
      return callback();
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    setIdentity: (identity) => server.updateSecureContext({ key: identity.key, cert: identity.cert }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
