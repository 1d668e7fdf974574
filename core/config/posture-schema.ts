import { isIP } from "node:net";
import { z } from "zod";
import { parseResolverAddress } from "../dns/resolver-address.ts";
import { POSTURE_REASON_ORDER, type PostureReason } from "../posture/posture-reasons.ts";
import { dnsblSettingsSchema } from "./dnsbl-schema.ts";
import { domain, seconds } from "./fields.ts";

/*
 * The mail DNS posture of a target's domain (MX, SPF, DMARC and the checks added beside them):
 * how often it is checked and through which resolver (the top-level `posture` block), and what
 * one target adds (`targets[].posture`). The target's domain itself is `targets[].domain`.
 */

/** "IP[:PORT]", checked with the parser the monitor uses. */
const resolverAddress = z.string().superRefine((text, context) => {
  try {
    parseResolverAddress(text);
  } catch (error) {
    context.addIssue({ code: "custom", message: (error as Error).message });
  }
});

/** An outbound IP whose mail the domain's SPF is asked about. */
const senderIp = z.string().refine((text) => isIP(text) !== 0, { error: "must be an IP address" });

export const postureSchema = z
  .strictObject({
    /**
     * A target's posture is checked again once its last check is this old: DNS changes slowly
     * and its answers are cached for minutes to hours, so checking every cycle adds load only.
     */
    intervalSeconds: seconds().min(60).default(3600),
    /** The resolver asked ("IP[:PORT]"); default: the first nameserver of /etc/resolv.conf. */
    resolver: resolverAddress.optional(),
    /** Deadline of each DNS try (UDP, or TCP after truncation). */
    timeoutMs: z.number().int().min(100).max(30_000).default(3000),
    /** UDP tries after the first when one gets no reply. */
    retries: z.number().int().min(0).max(5).default(2),
    /** Deadline of the MTA-STS policy fetch over HTTPS. */
    httpsTimeoutSeconds: seconds().min(1).max(60).default(10),
    /**
     * The whole posture run of one target must end within this: the cycle waits for it beside
     * the checks and probes. A check still running then is UNKNOWN (posture-budget-exceeded).
     */
    budgetSeconds: seconds().max(900).default(60),
    /**
     * Posture results in a row a posture check's new status needs (flap control), for every
     * target: a run is hourly, so the targets' confirmAfter (default 2) would delay a change
     * by an interval or more. Service checks keep the target's.
     */
    confirmAfter: z.number().int().min(1).max(20).default(1),
    /**
     * The monitor's outbound IP for every target that names none (targets[].posture.senderIp):
     * on AWS the NAT's Elastic IP, the one address the probes leave from.
     */
    senderIp: senderIp.optional(),
    /** The blocklists asked (absent: the well-known defaults; empty: none) and outbound IPs. */
    ...dnsblSettingsSchema,
  })
  .prefault({});

/** What one target may add to its posture checks. */
export const targetPostureSchema = z.strictObject({
  /** The monitor's outbound IP (the NAT's Elastic IP on AWS): would its mail pass SPF? */
  senderIp: senderIp.optional(),
  /**
   * The From domain whose DMARC alignment is judged. Default: the probes' From domain when it
   * belongs to the target's organizational domain (the probes then speak for the domain);
   * otherwise alignment is not judged, since the domain's record does not govern them.
   */
  fromDomain: domain.optional(),
  /** A domain without MTA-STS is a WARNING (mta-sts-missing) rather than "not published". */
  mtaStsRequired: z.boolean().default(false),
  /** A domain without a TLS-RPT record is a WARNING (tls-rpt-missing) rather than "not published". */
  tlsRptRequired: z.boolean().default(false),
  /**
   * Reasons whose findings are dropped before a result's status is made: a domain deliberately
   * at p=none (dmarc-monitoring-only), a backup MX no service check watches (mx-endpoints-differ).
   */
  ignore: z
    .array(
      z.enum(POSTURE_REASON_ORDER as [PostureReason, ...PostureReason[]], {
        error: "must be a posture reason code (email-scout posture --reasons), like dmarc-monitoring-only",
      }),
    )
    .optional(),
});

/** `targets[].domain`: the target's mail domain, whose posture is checked. */
export const targetDomainSchema = domain;

export type PostureConfig = z.infer<typeof postureSchema>;
export type TargetPostureConfig = z.infer<typeof targetPostureSchema>;
