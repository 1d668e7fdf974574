import type { Reason } from "./reasons.ts";

/** Which step of a check was running; every phase has its own deadline and timing. */
export type Phase =
  | "resolve"
  | "connect"
  | "tls"
  | "greeting"
  | "capabilities"
  | "starttls"
  | "capabilitiesAfterTls"
  | "relayTest"
  | "login"
  | "quit";

/**
 * A check ended early for a known reason. Carries the phase and, when the server answered,
 * its reply (code and text), so an operator sees exactly what the server said.
 */
export class CheckFailure extends Error {
  override readonly name = "CheckFailure";
  constructor(
    readonly reason: Reason,
    readonly phase: Phase,
    message: string,
    readonly serverReply?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The configuration of a check is unusable (bad URL, option, missing credential file). */
export class CheckConfigError extends Error {
  override readonly name = "CheckConfigError";
}
