import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import saslprep from "@mongodb-js/saslprep";
import type { Credentials } from "../dialect.ts";
import { SaslError, type SaslExchange, type SaslMechanism } from "./mechanism.ts";

const pbkdf2Async = promisify(pbkdf2);

/** The hash behind each SCRAM variant (RFC 5802 for SHA-1, RFC 7677 for SHA-256). */
const SCRAM_HASHES = {
  "SCRAM-SHA-1": { hash: "sha1", bytes: 20 },
  "SCRAM-SHA-256": { hash: "sha256", bytes: 32 },
} as const;
export type ScramName = keyof typeof SCRAM_HASHES;

/** No channel binding (we do not offer the -PLUS variants): gs2-cbind-flag "n", no authzid. */
const GS2_HEADER = "n,,";
/**
 * Highest iteration count accepted from a server. RFC 7677 asks for at least 4096; Dovecot and
 * Cyrus use 4096, current advice for PBKDF2-SHA256 is 600,000. Above this a hostile server
 * could hold the checker's CPU for seconds per check.
 */
export const MAX_SCRAM_ITERATIONS = 1_000_000;
const CLIENT_NONCE_BYTES = 24;

export function scramMechanism(name: ScramName): SaslMechanism {
  return { name, start: (credentials) => startScram(name, credentials) };
}

/**
 * The client side of SCRAM (RFC 5802 §3, §5): client-first, server-first (nonce, salt,
 * iterations), client-final with the proof, then the server's signature, which must match:
 * a server that cannot produce it does not know the password (or is not the server).
 */
export function startScram(
  name: ScramName,
  credentials: Credentials,
  clientNonce = randomBytes(CLIENT_NONCE_BYTES).toString("base64"),
): SaslExchange {
  const { hash, bytes } = SCRAM_HASHES[name];
  const user = prepare(credentials.user, "user name", true);
  const password = prepare(credentials.password.reveal(), "password", false);
  const clientFirstBare = `n=${saslName(user)},r=${clientNonce}`;
  let expectedServerSignature: Buffer | undefined;
  let verified = false;
  let step: "server-first" | "server-final" | "done" = "server-first";

  async function answerServerFirst(serverFirst: string): Promise<Buffer> {
    const attributes = parseAttributes(serverFirst, name);
    serverError(attributes, name);
    if (attributes.has("m")) {
      throw new SaslError(
        "protocol-error",
        `the server asks for a ${name} extension (m=) this checker lacks`,
      );
    }
    const nonce = required(attributes, "r", name);
    if (!nonce.startsWith(clientNonce) || nonce.length === clientNonce.length) {
      throw new SaslError("protocol-error", `the server's ${name} nonce does not extend the client's`);
    }
    const salt = base64Attribute(required(attributes, "s", name), "s", name);
    const iterationsText = required(attributes, "i", name);
    const iterations = Number(iterationsText);
    if (!/^[1-9][0-9]*$/.test(iterationsText) || iterations > MAX_SCRAM_ITERATIONS) {
      throw new SaslError(
        "protocol-error",
        `the server's ${name} iteration count "${iterationsText.slice(0, 20)}" is not a number from 1 to ${MAX_SCRAM_ITERATIONS}`,
      );
    }
    const clientFinalWithoutProof = `c=${Buffer.from(GS2_HEADER).toString("base64")},r=${nonce}`;
    const authMessage = `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
    const salted = await pbkdf2Async(Buffer.from(password, "utf8"), salt, iterations, bytes, hash);
    const clientKey = hmac(hash, salted, "Client Key");
    const storedKey = createHash(hash).update(clientKey).digest();
    const clientSignature = hmac(hash, storedKey, authMessage);
    const proof = Buffer.alloc(bytes);
    for (let index = 0; index < bytes; index += 1) {
      proof[index] = (clientKey[index] ?? 0) ^ (clientSignature[index] ?? 0);
    }
    expectedServerSignature = hmac(hash, hmac(hash, salted, "Server Key"), authMessage);
    return Buffer.from(`${clientFinalWithoutProof},p=${proof.toString("base64")}`, "utf8");
  }

  function checkServerFinal(serverFinal: string): Buffer {
    const attributes = parseAttributes(serverFinal, name);
    serverError(attributes, name);
    const signature = base64Attribute(required(attributes, "v", name), "v", name);
    const expected = expectedServerSignature as Buffer;
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new SaslError(
        "auth-failed",
        `the server's ${name} signature (v=) is wrong: it could not prove it knows the password (a different password stored there, or not the real server)`,
      );
    }
    verified = true;
    return Buffer.alloc(0);
  }

  return {
    initialResponse: Buffer.from(`${GS2_HEADER}${clientFirstBare}`, "utf8"),
    async respond(challenge) {
      const text = challenge.toString("utf8");
      if (step === "server-first") {
        step = "server-final";
        return answerServerFirst(text);
      }
      if (step === "server-final") {
        step = "done";
        return checkServerFinal(text);
      }
      throw new SaslError("protocol-error", `the server sent a challenge after its ${name} signature`);
    },
    complete() {
      if (!verified) {
        throw new SaslError(
          "auth-failed",
          `the server accepted the ${name} login without sending its signature (v=), so it never proved it knows the password`,
        );
      }
    },
  };
}

/**
 * SASLprep (RFC 4013) as RFC 5802 §5.1 asks: the user name as a query string (unassigned code
 * points allowed), the password as a stored string.
 */
function prepare(text: string, what: string, allowUnassigned: boolean): string {
  try {
    return saslprep(text, { allowUnassigned });
  } catch (error) {
    throw new SaslError(
      "auth-unavailable",
      `the ${what} cannot be used with SCRAM (SASLprep, RFC 4013: ${(error as Error).message}); name another mechanism with --auth-mech or login.mechanism`,
    );
  }
}

/** RFC 5802 §5.1: "=" and "," in the user name are written "=3D" and "=2C". */
export function saslName(user: string): string {
  return user.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

function hmac(hash: string, key: Buffer, text: string): Buffer {
  return createHmac(hash, key).update(text, "utf8").digest();
}

/** `a=value,b=value`: one-letter names, each at most once (RFC 5802 §7). */
function parseAttributes(message: string, name: ScramName): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(",")) {
    const match = /^([A-Za-z])=(.*)$/s.exec(part);
    if (!match || attributes.has(match[1] as string)) {
      throw new SaslError(
        "protocol-error",
        `the server's ${name} message is malformed: "${message.slice(0, 80)}"`,
      );
    }
    attributes.set(match[1] as string, match[2] as string);
  }
  return attributes;
}

/** `e=` ends the exchange with the server's reason (RFC 5802 §7: invalid-proof, unknown-user...). */
function serverError(attributes: Map<string, string>, name: ScramName): void {
  const error = attributes.get("e");
  if (error !== undefined) {
    throw new SaslError("auth-failed", `the server ended ${name} with e=${error.slice(0, 80)}`);
  }
}

function required(attributes: Map<string, string>, key: string, name: ScramName): string {
  const value = attributes.get(key);
  if (!value) throw new SaslError("protocol-error", `the server's ${name} message has no ${key}=`);
  return value;
}

function base64Attribute(value: string, key: string, name: ScramName): Buffer {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value)) {
    throw new SaslError("protocol-error", `the server's ${name} ${key}= is not base64`);
  }
  return Buffer.from(value, "base64");
}
