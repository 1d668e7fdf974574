import { chownSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { both, statusChanges } from "../expect.ts";
import { type Fault, healthyAgain, type Verdict } from "../fault.ts";
import { PROBE_USER } from "../harness.ts";
import { flushPostfixQueue, queuedRecipients } from "../mail-host.ts";
import { probeMailbox } from "../probe-mailbox.ts";
import type { Window } from "../recorder.ts";

const FAILING_SENDMAIL = "failing-sendmail";

/**
 * email_return cannot send its reply (its sendmail exits 1), so it exits 75 and Postfix keeps
 * the probe deferred. Once fixed, Postfix's retry delivers it and the return comes back late.
 */
export const returnTempfail: Fault = {
  id: "return-tempfail",
  title: "the return script exits 75 (Postfix defers)",
  expected:
    "round trip CRITICAL lost, probes deferred at Postfix; after the fix and Postfix's retry every lost probe comes back late, new ones returned",
  async inject() {
    const box = probeMailbox();
    const script = join(box.installDir, FAILING_SENDMAIL);
    writeFileSync(script, "#!/bin/sh\necho 'sendmail: simulated failure' >&2\nexit 1\n", { mode: 0o755 });
    chownSync(script, box.user.uid, box.user.gid);
    const config = JSON.parse(readFileSync(box.returnConfig, "utf8")) as Record<string, unknown>;
    writeFileSync(box.returnConfig, `${JSON.stringify({ ...config, sendmail: script }, null, 2)}\n`);
  },
  async restore(harness) {
    harness.reinstallReturn();
    rmSync(join(probeMailbox().installDir, FAILING_SENDMAIL), { force: true });
  },
  async beforeRecoveryCycle() {
    flushPostfixQueue();
  },
  detected(window) {
    const deferred = queuedRecipients().filter((q) => q.recipient === `${PROBE_USER}@scout.test`);
    const verdict = statusChanges(window, [{ subjects: ["roundtrip"], to: "CRITICAL", reasons: ["lost"] }]);
    return {
      ...verdict,
      met: verdict.met && deferred.length > 0,
      observed: `${verdict.observed}; ${deferred.length} probe(s) deferred at Postfix${deferred[0] ? ` (${deferred[0].reason})` : ""}`,
    };
  },
  recovered: (after, harness, during) => both(lostComeBackLate(after, during), healthyAgain(after, harness)),
};

/** Every probe counted lost while the fault was in place must come back late: none stays lost. */
export function lostComeBackLate(after: Window, during: Window): Verdict {
  const lost = during.roundTrips.filter((r) => r.outcome === "lost").map((r) => r.probeId);
  const late = after.roundTrips.filter((r) => r.outcome === "late" && lost.includes(r.probeId));
  const missing = lost.filter((id) => !late.some((r) => r.probeId === id));
  return {
    met: missing.length === 0,
    observed: `${late.length}/${lost.length} lost probe(s) came back late`,
    atMs: Math.max(0, ...late.map((r) => r.atMs)),
  };
}
