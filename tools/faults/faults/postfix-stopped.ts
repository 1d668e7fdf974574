import { statusChanges } from "../expect.ts";
import type { Fault } from "../fault.ts";
import { DOVECOT_SUBJECTS, SMTP_SUBJECTS } from "../harness.ts";
import { mailHost } from "../mail-host.ts";

/** Postfix down: the SMTP ports refuse, and so does the relay the probes go out through. */
export const postfixStopped: Fault = {
  id: "postfix-stopped",
  title: "Postfix stopped",
  expected:
    "smtp, submission, smtps CRITICAL refused; round trip CRITICAL send-failed (never lost); IMAP/POP3 stay OK",
  async inject() {
    mailHost("stop-postfix");
  },
  async restore() {
    mailHost("up");
  },
  detected(window) {
    const verdict = statusChanges(
      window,
      [
        { subjects: SMTP_SUBJECTS, to: "CRITICAL", reasons: ["refused"] },
        { subjects: ["roundtrip"], to: "CRITICAL", reasons: ["send-failed"] },
      ],
      DOVECOT_SUBJECTS,
    );
    const lost = window.roundTrips.filter((r) => r.outcome === "lost");
    return {
      ...verdict,
      problems: [
        ...(verdict.problems ?? []),
        ...lost.map((r) => `probe ${r.probeId} counted lost, should be send-failed`),
      ],
    };
  },
};
