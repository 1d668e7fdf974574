import { parseMessage } from "../../core/wire/parse-headers.ts";
import type { ProbeKey, ProbeKeyRing } from "../../core/wire/probe-key.ts";
import { composeReply, replyFromAddress } from "../../return/compose-reply.ts";
import { decide, envelopeSenderOf } from "../../return/decide.ts";

/**
 * The return email_return writes for `probe`, made with email_return's own decide() and
 * composeReply(), so tests and benchmarks can never drift from the real script.
 */
export function emailReturnReply(
  probe: Buffer,
  options: {
    /** email_return's key ring, or its one key. */
    key: ProbeKey | readonly ProbeKey[];
    returnTo: string;
    nowMs: number;
    arrivedAtMs?: number;
    uniqueId: string;
    sender?: string;
  },
): Buffer {
  const message = parseMessage(probe);
  const env = {
    SENDER: options.sender ?? "bounces@scout-returns.example.com",
    USER: "probe",
    DOMAIN: "mx1.example.com",
  };
  const decision = decide({
    fields: message.fields,
    envelopeSender: envelopeSenderOf(env, message),
    keys: ringOf(options.key),
    nowMs: options.nowMs,
    maxAgeMs: 3_600_000,
  });
  if (decision.action !== "reply") throw new Error(`email_return would not reply: ${decision.reason}`);
  const reply = composeReply({
    returnTo: options.returnTo,
    from: replyFromAddress(undefined, env, message, "mx1.example.com"),
    token: decision.token,
    arrivedAtMs: options.arrivedAtMs ?? options.nowMs,
    message,
    key: decision.key,
    headerBlockCut: false,
    now: new Date(options.nowMs),
    hostname: "mx1.example.com",
    uniqueId: options.uniqueId,
  });
  return Buffer.from(reply.replace(/\r?\n/g, "\r\n"), "latin1");
}

function ringOf(keys: ProbeKey | readonly ProbeKey[]): ProbeKeyRing {
  const [first, ...rest] = "id" in keys ? [keys] : keys;
  if (first === undefined) throw new Error("email_return needs at least one key");
  return [first, ...rest];
}
