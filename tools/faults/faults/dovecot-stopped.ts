import { statusChanges } from "../expect.ts";
import type { Fault } from "../fault.ts";
import { DOVECOT_SUBJECTS, SMTP_SUBJECTS } from "../harness.ts";
import { mailHost } from "../mail-host.ts";

/** Dovecot down: IMAP and POP3 refuse connections; Postfix (and the mail flow) carry on. */
export const dovecotStopped: Fault = {
  id: "dovecot-stopped",
  title: "Dovecot stopped",
  expected: "imap, imaps, pop3, pop3s CRITICAL refused; smtp, submission, smtps and the round trip stay OK",
  async inject() {
    mailHost("stop-dovecot");
  },
  async restore() {
    mailHost("up");
  },
  detected: (window) =>
    statusChanges(
      window,
      [{ subjects: DOVECOT_SUBJECTS, to: "CRITICAL", reasons: ["refused"] }],
      [...SMTP_SUBJECTS, "roundtrip"],
    ),
};
