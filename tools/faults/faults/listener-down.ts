import { both, statusChanges } from "../expect.ts";
import { type Fault, healthyAgain } from "../fault.ts";
import { RETURN_TO } from "../harness.ts";
import { flushPostfixQueue, queuedRecipients } from "../mail-host.ts";
import { lostComeBackLate } from "./return-tempfail.ts";

/**
 * The monitor's inbound port refuses connections while the monitor keeps probing: Postfix
 * defers the returns in its queue and delivers them once the port is back.
 */
export const listenerDown: Fault = {
  id: "listener-down",
  title: "the monitor's inbound listener down",
  expected:
    "round trip CRITICAL lost while down, returns queued at Postfix; once back every lost probe comes back late, none stays lost",
  async inject(harness) {
    await harness.monitor.pauseInbound();
  },
  async restore(harness) {
    await harness.monitor.resumeInbound();
  },
  async beforeRecoveryCycle() {
    flushPostfixQueue();
  },
  detected(window) {
    const queued = queuedRecipients().filter((q) => q.recipient === RETURN_TO);
    const verdict = statusChanges(window, [{ subjects: ["roundtrip"], to: "CRITICAL", reasons: ["lost"] }]);
    return {
      ...verdict,
      met: verdict.met && queued.length > 0,
      observed: `${verdict.observed}; ${queued.length} return(s) queued at Postfix${queued[0] ? ` (${queued[0].reason})` : ""}`,
    };
  },
  recovered: (after, harness, during) => both(lostComeBackLate(after, during), healthyAgain(after, harness)),
};
