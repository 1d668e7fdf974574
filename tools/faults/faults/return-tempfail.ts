import { chownSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Fault } from "../fault.ts";
import { PROBE_TO } from "../harness.ts";
import { probeMailbox } from "../probe-mailbox.ts";
import { queuedAtPostfix } from "./queued-at-postfix.ts";

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
  ...queuedAtPostfix(PROBE_TO, "probe(s) deferred"),
};
