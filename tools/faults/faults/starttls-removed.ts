import { statusChanges } from "../expect.ts";
import type { Fault } from "../fault.ts";
import { DOVECOT_SUBJECTS, ENDPOINTS } from "../harness.ts";
import { setPostfixParameter } from "../mail-host.ts";

const PARAMETER = "smtpd_discard_ehlo_keywords";

/** Postfix stops announcing STARTTLS in its EHLO reply (465 is implicit TLS and unaffected). */
export const starttlsRemoved: Fault = {
  id: "starttls-removed",
  title: "STARTTLS removed from Postfix's EHLO",
  // The round trip is not judged: serve keeps its relay connection (STARTTLS done before the
  // fault) open between probes; a new connection would find no STARTTLS and fail the send.
  expected:
    "smtp, submission CRITICAL no-starttls; smtps and IMAP/POP3 stay OK (round trip not judged: the kept relay connection predates the change)",
  async inject() {
    setPostfixParameter(PARAMETER, "starttls");
  },
  async restore() {
    setPostfixParameter(PARAMETER, undefined);
  },
  detected: (window) =>
    statusChanges(
      window,
      [{ subjects: [ENDPOINTS.smtp, ENDPOINTS.submission], to: "CRITICAL", reasons: ["no-starttls"] }],
      [ENDPOINTS.smtps, ...DOVECOT_SUBJECTS],
    ),
};
