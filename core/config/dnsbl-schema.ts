import { isIP } from "node:net";
import { z } from "zod";

/**
 * The blocklist settings of the mail DNS posture (core/posture/dnsbl-check.ts): which DNSBLs
 * to ask, with the status of a listing on each, and the outbound addresses asked beside the
 * MX addresses. Absent `dnsbls`: the well-known defaults (DEFAULT_DNSBLS).
 */

const ipAddress = z.string().refine((text) => isIP(text) !== 0, {
  error: "must be an IPv4 or IPv6 address like 192.0.2.25 or 2001:db8::25",
});

/** A DNSBL answer code: an IPv4 address in 127.0.0.0/8 (RFC 5782 §2.1). */
const ANSWER_CODE = /^127\.(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){2}$/;

/** Answer code -> what it means, each bad code named on its own key. */
const codeMeanings = z.record(z.string(), z.string().min(1)).superRefine((codes, context) => {
  for (const code of Object.keys(codes)) {
    if (ANSWER_CODE.test(code)) continue;
    context.addIssue({
      code: "custom",
      path: [code],
      message: "must be a DNSBL answer code in 127.0.0.0/8, like 127.0.0.2",
    });
  }
});

const zone = z
  .string()
  .regex(/^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$/, {
    error: "must be a DNSBL zone like zen.spamhaus.org (a DQS key is part of the zone name)",
  });

export const dnsblListSchema = z.strictObject({
  zone,
  /** The status of a listing on this list. */
  severity: z.enum(["WARNING", "CRITICAL"], { error: "must be WARNING or CRITICAL" }),
  /** What each listing code means (shown with the finding); known lists have defaults. */
  codes: codeMeanings.optional(),
  /** Codes by which the list refuses a query: UNKNOWN, never a listing. */
  refused: codeMeanings.optional(),
});

/** `dnsbls` (empty: ask none) and `outboundIps`, the keys the posture block takes for blocklists. */
export const dnsblSettingsSchema = {
  dnsbls: z.array(dnsblListSchema).optional(),
  outboundIps: z.array(ipAddress).optional(),
};

export type DnsblListConfig = z.infer<typeof dnsblListSchema>;
