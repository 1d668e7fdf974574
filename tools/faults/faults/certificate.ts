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
    // The monitor's own relay connection (STARTTLS, verified) refuses the certificate too.
    expected: `all 7 endpoints CRITICAL ${input.reason}; round trip CRITICAL send-failed`,
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
      statusChanges(window, [
        { subjects: ALL_ENDPOINT_SUBJECTS, to: "CRITICAL", reasons: [input.reason] },
        { subjects: ["roundtrip"], to: "CRITICAL", reasons: ["send-failed"] },
      ]),
  };
}
