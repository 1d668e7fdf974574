import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import saslprep from "@mongodb-js/saslprep";

/**
 * The server's half of the SASL mechanisms the checker speaks, for the fake servers of the
 * tests. Written from the RFCs on its own (it shares no code with core/checks/sasl), so a
 * mistake on one side shows as a failed login. SCRAM keeps only StoredKey and ServerKey, as a
 * real server does, and checks the client's proof against them.
 */
export interface SaslAccount {
  readonly user: string;
  readonly password: string;
}

export interface ServerSaslOptions {
  /**
   * What the server sends after a valid SCRAM proof: its signature (the default), a wrong
   * one, none at all (success at once), or an `e=` error.
   */
  readonly scramServerFinal?: "signature" | "wrong-signature" | "none" | "error";
}

export type ServerSaslVerdict = "ok" | "failed" | "cancelled" | "malformed";
/** A challenge to send (base64), or the end of the exchange. */
export type ServerSaslStep = { readonly challenge: string } | { readonly verdict: ServerSaslVerdict };

export const SERVER_MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"] as const;

/** One exchange: `feed` takes the client's base64 message (undefined: no initial response). */
export interface ServerSaslExchange {
  feed(message: string | undefined): ServerSaslStep;
}

export function serverSasl(
  mechanism: string,
  account: SaslAccount,
  options: ServerSaslOptions = {},
): ServerSaslExchange | undefined {
  const handler = HANDLERS[mechanism.toUpperCase()];
  if (!handler) return undefined;
  const next = handler(account, options);
  let first = true;
  return {
    feed(message) {
      if (message === "*") return { verdict: "cancelled" };
      const isFirst = first;
      first = false;
      if (message === undefined) return isFirst ? next(undefined) : { verdict: "malformed" };
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(message) && message !== "=") return { verdict: "malformed" };
      return next(message === "=" ? Buffer.alloc(0) : Buffer.from(message, "base64"));
    },
  };
}

type Handler = (
  account: SaslAccount,
  options: ServerSaslOptions,
) => (message: Buffer | undefined) => ServerSaslStep;

const challenge = (text: string | Buffer): ServerSaslStep => ({
  challenge: Buffer.from(text).toString("base64"),
});
const verdict = (ok: boolean): ServerSaslStep => ({ verdict: ok ? "ok" : "failed" });

const HANDLERS: Record<string, Handler> = {
  PLAIN: (account) => (message) => {
    if (message === undefined) return challenge("");
    const [, user, password] = message.toString("utf8").split("\0");
    return verdict(user === account.user && password === account.password);
  },
  LOGIN: (account) => {
    let user: string | undefined;
    return (message) => {
      if (message === undefined) return challenge("Username:");
      if (user === undefined) {
        user = message.toString("utf8");
        return challenge("Password:");
      }
      return verdict(user === account.user && message.toString("utf8") === account.password);
    };
  },
  "CRAM-MD5": (account) => {
    const sent = `<${randomBytes(8).toString("hex")}.${Date.now()}@fake.example.test>`;
    return (message) => {
      if (message === undefined) return challenge(sent);
      const expected = createHmac("md5", account.password).update(sent).digest("hex");
      return verdict(message.toString("utf8") === `${account.user} ${expected}`);
    };
  },
  "SCRAM-SHA-1": (account, options) => scramServer("sha1", account, options),
  "SCRAM-SHA-256": (account, options) => scramServer("sha256", account, options),
};

function scramServer(hash: "sha1" | "sha256", account: SaslAccount, options: ServerSaslOptions) {
  const salt = randomBytes(16);
  const iterations = 4096;
  const salted = pbkdf2Sync(saslprep(account.password), salt, iterations, hash === "sha1" ? 20 : 32, hash);
  const mac = (key: Buffer, text: string) => createHmac(hash, key).update(text).digest();
  const storedKey = createHash(hash).update(mac(salted, "Client Key")).digest();
  const serverKey = mac(salted, "Server Key");
  let state: "client-first" | "client-final" | "final-ack" | "done" = "client-first";
  let clientFirstBare = "";
  let serverFirst = "";
  let nonce = "";
  return (message: Buffer | undefined): ServerSaslStep => {
    if (message === undefined) return challenge("");
    const text = message.toString("utf8");
    if (state === "client-first") {
      const match = /^n,,(n=([^,]*),r=([^,]+))$/.exec(text);
      if (!match) return { verdict: "malformed" };
      const user = (match[2] ?? "").replace(/=2C/g, ",").replace(/=3D/g, "=");
      if (user !== account.user) return verdict(false);
      clientFirstBare = match[1] ?? "";
      nonce = `${match[3]}${randomBytes(12).toString("base64")}`;
      serverFirst = `r=${nonce},s=${salt.toString("base64")},i=${iterations}`;
      state = "client-final";
      return challenge(serverFirst);
    }
    if (state === "client-final") {
      const match = /^(c=([^,]*),r=([^,]*)),p=([^,]+)$/.exec(text);
      if (!match || match[2] !== Buffer.from("n,,").toString("base64") || match[3] !== nonce) {
        return { verdict: "malformed" };
      }
      const authMessage = `${clientFirstBare},${serverFirst},${match[1]}`;
      const proof = Buffer.from(match[4] ?? "", "base64");
      const signature = mac(storedKey, authMessage);
      if (proof.length !== signature.length) return verdict(false);
      const clientKey = Buffer.from(proof.map((byte, index) => byte ^ (signature[index] ?? 0)));
      const proven = timingSafeEqual(createHash(hash).update(clientKey).digest(), storedKey);
      if (!proven) return verdict(false);
      state = "final-ack";
      switch (options.scramServerFinal ?? "signature") {
        case "none":
          return verdict(true);
        case "error":
          return challenge("e=other-error");
        case "wrong-signature":
          return challenge(`v=${randomBytes(signature.length).toString("base64")}`);
        case "signature":
          return challenge(`v=${mac(serverKey, authMessage).toString("base64")}`);
      }
    }
    if (state === "final-ack") {
      state = "done";
      return message.length === 0 ? verdict(true) : { verdict: "malformed" };
    }
    return { verdict: "malformed" };
  };
}
