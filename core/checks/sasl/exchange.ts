import type { Conversation } from "../conversation.ts";
import type { Credentials, Reply } from "../dialect.ts";
import { SASL_MECHANISMS } from "./choose-mechanism.ts";
import { SaslError, type SaslExchange } from "./mechanism.ts";
import type { SaslMechanismName } from "./mechanism-names.ts";

/** One step of the server's side: a challenge (its base64 text) or the final reply. */
export type SaslStep = { readonly challenge: string; readonly line: string } | { readonly reply: Reply };

/**
 * How one protocol frames SASL: SMTP `AUTH` and 334 (RFC 4954), IMAP `AUTHENTICATE` and `+`
 * (RFC 3501 §6.2.2, RFC 4959), POP3 `AUTH` and `+` (RFC 5034). A response of "*" cancels.
 */
export interface SaslTransport {
  /** Sends the command, with the initial response (base64) when the mechanism has one. */
  start(
    c: Conversation,
    mechanism: SaslMechanismName,
    initialResponse: string | undefined,
  ): Promise<SaslStep>;
  /** Sends one response line (base64, or "*" to cancel). */
  respond(c: Conversation, response: string): Promise<SaslStep>;
}

/** More challenges than any mechanism here needs (SCRAM: two) means a confused server. */
const MAX_CHALLENGES = 4;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Runs one SASL exchange over a protocol's transport and returns the server's final reply
 * for the dialect to judge. When the mechanism cannot go on (bad challenge, server error, a
 * server that did not prove itself) it cancels if the exchange is still open and throws a
 * CheckFailure with the mechanism's reason.
 */
export async function saslLogin(
  c: Conversation,
  transport: SaslTransport,
  mechanism: SaslMechanismName,
  credentials: Credentials,
): Promise<Reply> {
  let exchange: SaslExchange;
  try {
    exchange = SASL_MECHANISMS[mechanism].start(credentials);
  } catch (error) {
    if (error instanceof SaslError) throw c.fail(error.reason, error.message);
    throw error;
  }
  const initial = exchange.initialResponse?.toString("base64");
  let step = await transport.start(c, mechanism, initial);
  for (let challenges = 0; "challenge" in step; challenges += 1) {
    const { challenge, line } = step;
    let response: Buffer;
    try {
      if (challenges >= MAX_CHALLENGES) {
        throw new SaslError(
          "protocol-error",
          `the server sent more than ${MAX_CHALLENGES} ${mechanism} challenges`,
        );
      }
      if (!BASE64.test(challenge))
        throw new SaslError("protocol-error", `a ${mechanism} challenge is not base64`);
      response = await exchange.respond(Buffer.from(challenge, "base64"));
    } catch (error) {
      if (!(error instanceof SaslError)) throw error;
      const cancelled = await transport.respond(c, "*");
      const reply = "reply" in cancelled ? cancelled.reply.text : undefined;
      throw c.fail(error.reason, error.message, reply ?? line);
    }
    step = await transport.respond(c, response.toString("base64"));
  }
  if (step.reply.ok) {
    try {
      exchange.complete();
    } catch (error) {
      if (error instanceof SaslError) throw c.fail(error.reason, error.message, step.reply.text);
      throw error;
    }
  }
  return step.reply;
}
