import type { Conversation } from "./conversation.ts";
import { CheckConfigError } from "./errors.ts";
import { smtpCommand } from "./protocols/smtp.ts";
import { smtpRefusal } from "./protocols/smtp-refusals.ts";
import type { Reason } from "./reasons.ts";

/**
 * The open relay test: an unauthenticated client (what a spammer is) asks the server to take
 * mail from an outside sender to an outside recipient. MAIL FROM and RCPT TO only, then RSET:
 * DATA is never sent, so even an open relay receives no message to pass on.
 */
export interface RelayTest {
  readonly sender: string;
  readonly recipient: string;
}

/**
 * Both domains are reserved by RFC 2606 (example.net, example.com): no real mailbox can ever be
 * reached, yet they are ordinary, resolvable domains, so a server decides on relaying alone.
 * A `.invalid` recipient would often be refused for its DNS (Postfix
 * reject_unknown_recipient_domain) before the relay rule is ever asked, and a relay would pass.
 * They are two different domains so neither can be mistaken for the server's own.
 */
export const DEFAULT_RELAY_TEST: RelayTest = {
  sender: "relay-test@example.net",
  recipient: "relay-test@example.com",
};

/**
 * - refused: RCPT TO got a permanent refusal (5xx), what a closed server says.
 * - accepted: RCPT TO got 2xx: the server would relay for anyone.
 * - deferred: RCPT TO got 4xx (greylisting, a temporary failure): no answer yet.
 * - sender-refused: MAIL FROM was refused, so RCPT TO was never asked.
 */
export type RelayOutcome = "refused" | "accepted" | "deferred" | "sender-refused";

export interface RelayTestResult extends RelayTest {
  readonly outcome: RelayOutcome;
  /** The server's reply that decided the outcome, as sent. */
  readonly reply: string;
}

/** A plain address, nothing that could end or extend the command line it goes into. */
const PLAIN_ADDRESS = /^[^\s@<>()"\\]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$/;

/** The test's addresses from the CLI or the config, checked before they go on the wire. */
export function relayTestFrom(given: Partial<RelayTest>): RelayTest {
  const test = { ...DEFAULT_RELAY_TEST, ...given };
  for (const [name, value] of Object.entries(test)) {
    if (!PLAIN_ADDRESS.test(value)) {
      throw new CheckConfigError(
        `relay test ${name} "${value}" must be a plain mail address like probe@example.com`,
      );
    }
  }
  return test;
}

/** Runs the test on a session that has said EHLO (and started TLS when it does so) but not logged in. */
export async function tryRelay(c: Conversation, test: RelayTest): Promise<RelayTestResult> {
  const mail = await smtpCommand(c, `MAIL FROM:<${test.sender}>`);
  if (!mail.code.startsWith("2")) return { ...test, outcome: "sender-refused", reply: mail.text };
  const rcpt = await smtpCommand(c, `RCPT TO:<${test.recipient}>`);
  const outcome: RelayOutcome = rcpt.code.startsWith("2")
    ? "accepted"
    : rcpt.code.startsWith("4")
      ? "deferred"
      : "refused";
  await resetTransaction(c);
  return { ...test, outcome, reply: rcpt.text };
}

/** RSET (RFC 5321 §4.1.1.5) ends the transaction without DATA; every server must accept it. */
async function resetTransaction(c: Conversation): Promise<void> {
  const reply = await smtpCommand(c, "RSET");
  if (!reply.code.startsWith("2")) {
    throw smtpRefusal(c, "RSET", reply, { reason: "protocol-error", message: "the server refused RSET" });
  }
}

/** What the test's outcome says to the operator (a Problem of evaluate.ts); a refusal is no problem at all. */
export function relayProblem(
  result: RelayTestResult,
): { status: "CRITICAL" | "WARNING"; reason: Reason; message: string } | undefined {
  const asked = `MAIL FROM:<${result.sender}> RCPT TO:<${result.recipient}>`;
  switch (result.outcome) {
    case "refused":
      return undefined;
    case "accepted":
      return {
        status: "CRITICAL",
        reason: "open-relay",
        message: `the server accepted ${asked} without login: it relays for anyone ("${result.reply}")`,
      };
    case "deferred":
      return {
        status: "WARNING",
        reason: "relay-test-inconclusive",
        message: `the server deferred RCPT TO:<${result.recipient}> (greylisting or a temporary failure), so relaying is not known yet: "${result.reply}"`,
      };
    case "sender-refused":
      return {
        status: "WARNING",
        reason: "relay-test-inconclusive",
        message: `the server refused MAIL FROM:<${result.sender}>, so relaying was never asked: "${result.reply}"`,
      };
  }
}
