import { type FakeAccessServerOptions, serveSasl } from "./fake-mail-servers.ts";
import { type LineServer, startLineServer } from "./line-server.ts";
import { serverSasl } from "./sasl-server-side.ts";

/**
 * A small SMTP server after RFC 5321/3207/4954 for logins: EHLO announcing the SASL
 * mechanisms asked for (each verified against one account), STARTTLS, AUTH with or without
 * an initial response, QUIT. smtp-server speaks PLAIN, LOGIN and CRAM-MD5 only, not SCRAM.
 */
export function startFakeSmtpAuth(
  options: Pick<
    FakeAccessServerOptions,
    "tls" | "implicitTls" | "user" | "password" | "mechanisms" | "logins" | "scramServerFinal"
  >,
): Promise<LineServer> {
  const mechanisms = (options.mechanisms ?? ["PLAIN", "LOGIN"]).map((name) => name.toUpperCase());
  const account = { user: options.user ?? "", password: options.password ?? "" };
  return startLineServer(
    (conn) => {
      let secure = Boolean(options.implicitTls);
      let sasl: { pending: ((line: string) => void) | undefined } = { pending: undefined };
      conn.line("220 fake.example.test ESMTP ready");
      conn.onLine((line) => {
        if (sasl.pending) return sasl.pending(line);
        const [verb = "", ...args] = line.split(" ");
        switch (verb.toUpperCase()) {
          case "EHLO": {
            const extensions = [
              "PIPELINING",
              ...(mechanisms.length > 0 ? [`AUTH ${mechanisms.join(" ")}`] : []),
              ...(!secure && options.tls ? ["STARTTLS"] : []),
            ];
            conn.line(extensions.length > 0 ? "250-fake.example.test" : "250 fake.example.test");
            for (const [index, extension] of extensions.entries()) {
              conn.line(`250${index === extensions.length - 1 ? " " : "-"}${extension}`);
            }
            break;
          }
          case "STARTTLS":
            if (!options.tls || secure) return conn.line("454 4.7.0 TLS not available");
            conn.line("220 2.0.0 Ready to start TLS");
            conn.upgrade(options.tls);
            secure = true;
            break;
          case "AUTH": {
            const mechanism = (args[0] ?? "").toUpperCase();
            const exchange = mechanisms.includes(mechanism)
              ? serverSasl(mechanism, account, options)
              : undefined;
            if (!exchange) return conn.line("504 5.5.4 Unrecognized authentication type");
            sasl = serveSasl(
              conn,
              mechanism,
              exchange,
              args[1],
              (challenge) => `334 ${challenge}`,
              (verdict) =>
                conn.line(
                  verdict === "ok"
                    ? "235 2.7.0 Authentication successful"
                    : verdict === "failed"
                      ? "535 5.7.8 Authentication credentials invalid"
                      : `501 5.5.2 Authentication ${verdict}`,
                ),
              options.logins,
            );
            break;
          }
          case "QUIT":
            conn.line("221 2.0.0 Bye");
            conn.socket.end();
            break;
          default:
            conn.line("502 5.5.2 Command not recognized");
        }
      });
    },
    options.implicitTls ? { implicitTls: options.implicitTls } : {},
  );
}
