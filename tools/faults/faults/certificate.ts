import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CertificateSpec, issueWithDemoCa } from "../certificates.ts";
import { statusChanges } from "../expect.ts";
import type { Fault } from "../fault.ts";
import { ALL_ENDPOINT_SUBJECTS } from "../harness.ts";
import { DEMO, mailHost } from "../mail-host.ts";

/**
 * Postfix and Dovecot serve another certificate (signed by the demo CA, so only the fault
 * under test is wrong) on every TLS port; the demo one comes back with cert-restore.
 */
export function certificateFault(input: {
  id: string;
  title: string;
  reason: string;
  spec: () => CertificateSpec;
}): Fault {
  return {
    id: input.id,
    title: input.title,
    // The round trip is not judged: serve keeps its relay connection open between probes, so
    // probes go on over the TLS session verified before the swap (a new connection, after a
    // drop or a restart, would refuse the certificate: send-failed).
    expected: `all 7 endpoints CRITICAL ${input.reason} (round trip not judged: the kept relay connection predates the swap)`,
    async inject() {
      const dir = mkdtempSync(join(tmpdir(), "scout-fault-cert-"));
      try {
        const pair = await issueWithDemoCa(
          input.spec(),
          { certFile: DEMO.caFile, keyFile: DEMO.caKeyFile },
          dir,
        );
        mailHost("cert-install", pair.certFile, pair.keyFile);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async restore() {
      mailHost("cert-restore");
    },
    detected: (window) =>
      statusChanges(window, [{ subjects: ALL_ENDPOINT_SUBJECTS, to: "CRITICAL", reasons: [input.reason] }]),
  };
}
