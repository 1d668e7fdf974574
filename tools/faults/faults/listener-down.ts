import type { Fault } from "../fault.ts";
import { RETURN_TO } from "../harness.ts";
import { queuedAtPostfix } from "./queued-at-postfix.ts";

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
  ...queuedAtPostfix(RETURN_TO, "return(s) queued"),
};
