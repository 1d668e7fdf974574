import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_FAULTS } from "../../tools/faults/all-faults.ts";
import { Harness } from "../../tools/faults/harness.ts";
import { mailHost } from "../../tools/faults/mail-host.ts";
import { runFault } from "../../tools/faults/run-fault.ts";

/*
 * The short form of `npm run faults`: every fault injected into the real demo host once, in
 * order, each restored before the next. A fault passes when the monitor names it within
 * confirmAfter + 1 cycles and reports the host healthy within confirmAfter + 1 cycles of the
 * fix (tools/faults/fault.ts). Needs the demo mail host (scripts/demo-mailhost.sh up).
 */
let harness: Harness;
const logTail: string[] = [];

beforeAll(async () => {
  harness = await Harness.open({
    onLog: (line) => {
      logTail.push(line);
      if (logTail.length > 60) logTail.shift();
    },
  });
}, 180_000);

afterAll(async () => {
  await harness?.close();
  // Whatever a failed fault left behind, the next test file gets the host as `up` makes it.
  mailHost("up");
}, 180_000);

describe("fault injection on the demo mail host", () => {
  for (const fault of ALL_FAULTS) {
    it(`${fault.title}: ${fault.expected}`, async () => {
      const report = await runFault(harness, fault);
      const context = `${report.observed}\nmonitor log (last lines):\n${logTail.join("\n")}`;
      expect(report.problems, context).toEqual([]);
      expect(report.passed).toBe(true);
      expect(report.detectCycles).toBeLessThanOrEqual(harness.confirmAfter + 1);
      expect(report.recoverCycles).toBeGreaterThanOrEqual(1);
    }, 240_000);
  }
});
