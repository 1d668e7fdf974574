import { statusChanges } from "../expect.ts";
import type { Fault } from "../fault.ts";
import { DOVECOT_SUBJECTS, ENDPOINTS } from "../harness.ts";
import { setPostfixParameter } from "../mail-host.ts";

const PARAMETER = "smtpd_discard_ehlo_keywords";

/** Postfix stops announcing STARTTLS in its EHLO reply (465 is implicit TLS and unaffected). */
export const starttlsRemoved: Fault = {
  id: "starttls-removed",
  title: "STARTTLS removed from Postfix's EHLO",
  // The probes go out with STARTTLS required, so they cannot be sent either.
  expected:
    "smtp, submission CRITICAL no-starttls; round trip CRITICAL send-failed; smtps and IMAP/POP3 stay OK",
  async inject() {
    setPostfixParameter(PARAMETER, "starttls");
  },
  async restore() {
    setPostfixParameter(PARAMETER, undefined);
  },
  detected: (window) =>
    statusChanges(
      window,
      [
        { subjects: [ENDPOINTS.smtp, ENDPOINTS.submission], to: "CRITICAL", reasons: ["no-starttls"] },
        { subjects: ["roundtrip"], to: "CRITICAL", reasons: ["send-failed"] },
      ],
      [ENDPOINTS.smtps, ...DOVECOT_SUBJECTS],
    ),
};
