import type { Fault } from "./fault.ts";
import { certExpired } from "./faults/cert-expired.ts";
import { certWrongHost } from "./faults/cert-wrong-host.ts";
import { dovecotStopped } from "./faults/dovecot-stopped.ts";
import { forwardRemoved } from "./faults/forward-removed.ts";
import { listenerDown } from "./faults/listener-down.ts";
import { mailboxBounces } from "./faults/mailbox-bounces.ts";
import { postfixStopped } from "./faults/postfix-stopped.ts";
import { returnTempfail } from "./faults/return-tempfail.ts";
import { starttlsRemoved } from "./faults/starttls-removed.ts";
import { webhookDown } from "./faults/webhook-down.ts";

/** Every fault, in the order a run injects them. */
export const ALL_FAULTS: readonly Fault[] = [
  dovecotStopped,
  postfixStopped,
  certExpired,
  certWrongHost,
  starttlsRemoved,
  returnTempfail,
  mailboxBounces,
  forwardRemoved,
  listenerDown,
  webhookDown,
];
