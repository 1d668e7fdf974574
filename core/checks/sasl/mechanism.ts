import type { Credentials } from "../dialect.ts";
import type { SaslMechanismName } from "./mechanism-names.ts";

/** The client side of one SASL exchange (RFC 4422 §3). */
export interface SaslExchange {
  /** Sent with the command (client-first mechanisms); undefined when the server speaks first. */
  readonly initialResponse: Buffer | undefined;
  /** Answers one server challenge; rejects with a SaslError when it cannot be answered. */
  respond(challenge: Buffer): Promise<Buffer>;
  /** The server reported success: throws a SaslError when it has not proven itself (SCRAM). */
  complete(): void;
}

export interface SaslMechanism {
  readonly name: SaslMechanismName;
  start(credentials: Credentials): SaslExchange;
}

/**
 * The exchange cannot go on: the server's message breaks the mechanism (protocol-error),
 * the server reported an error or failed to prove itself (auth-failed), or the credentials
 * cannot be used with this mechanism (auth-unavailable).
 */
export class SaslError extends Error {
  override readonly name = "SaslError";
  constructor(
    readonly reason: "protocol-error" | "auth-failed" | "auth-unavailable",
    message: string,
  ) {
    super(message);
  }
}
