import { statusChanges } from "../expect.ts";
import type { Fault } from "../fault.ts";
import { writeForward } from "../probe-mailbox.ts";

/**
 * The probe mailbox forwards to a user that does not exist: Postfix accepts the probe, local
 * delivery fails with 5.1.1, and the DSN goes to the probe's envelope sender (bounces+<id>@).
 */
export const mailboxBounces: Fault = {
  id: "mailbox-bounces",
  title: "the probe mailbox bounces (user unknown)",
  expected: "round trip CRITICAL bounced, with the DSN's 5.1.1 and its diagnostic",
  async inject() {
    writeForward("ghost-no-such-user\n");
  },
  async restore(harness) {
    writeForward("");
    harness.reinstallReturn();
  },
  detected(window) {
    const verdict = statusChanges(window, [
      { subjects: ["roundtrip"], to: "CRITICAL", reasons: ["bounced"] },
    ]);
    const bounced = window.roundTrips.filter((r) => r.outcome === "bounced");
    const with511 = bounced.filter((r) => r.bounceStatus === "5.1.1");
    const first = with511[0] ?? bounced[0];
    return {
      ...verdict,
      met: verdict.met && bounced.length > 0 && with511.length === bounced.length,
      observed: `${verdict.observed}; ${bounced.length} bounced${first ? ` (${first.bounceStatus}: ${first.bounceDiagnostic})` : ""}`,
    };
  },
};
