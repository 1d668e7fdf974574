import { z } from "zod";
import { parseEndpointUrl } from "../checks/endpoint.ts";
import { WEBHOOK_EVENT_TYPES } from "./config-rules.ts";
import { fetchSchema } from "./fetch-schema.ts";
import { address, path, port, seconds } from "./fields.ts";
import { openRelayTestSchema } from "./open-relay-test-schema.ts";
import { targetDomainSchema, targetPostureSchema } from "./posture-schema.ts";
import { prometheusProbeSchema } from "./prometheus-probe-schema.ts";
import { thresholdsSchema } from "./thresholds-schema.ts";

/*
 * The parts of the configuration that describe what is watched and where results go: targets
 * with their endpoints and probe, the relay, webhook endpoints and the dashboard. schema.ts
 * puts them together with the rest and the rules across keys.
 */

/** An endpoint's optional login; the mechanism is checked against the URL's protocol in crossChecks. */
export const loginSchema = z.strictObject({
  user: z.string().min(1),
  passwordFile: path,
  /** Log in with this mechanism only (SCRAM-SHA-256, CRAM-MD5, PLAIN, IMAP-LOGIN, ...). */
  mechanism: z.string().optional(),
});

export const endpointSchema = z.strictObject({
  url: z.string().superRefine((url, context) => {
    try {
      parseEndpointUrl(url);
    } catch (error) {
      context.addIssue({ code: "custom", message: (error as Error).message });
    }
  }),
  caFile: path.optional(),
  login: loginSchema.optional(),
  thresholds: thresholdsSchema.optional(),
  openRelayTest: openRelayTestSchema.optional(),
});

export const targetSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    error: "must be 1-64 characters of letters, digits, . _ - (it names the target in metrics)",
  }),
  customer: z.string().min(1).max(64).optional(),
  /** The target's mail domain: its DNS posture (MX, SPF, DMARC, ...) is checked on the posture schedule. */
  domain: targetDomainSchema.optional(),
  /** What this target adds to its posture checks (needs `domain`). */
  posture: targetPostureSchema.optional(),
  endpoints: z.array(endpointSchema).default([]),
  /** Defaults for this target's endpoints. */
  thresholds: thresholdsSchema.optional(),
  /**
   * Flap control: a status changes only after this many consecutive results agree, so one
   * dropped packet does not page anyone. 1 reports every change at once.
   */
  confirmAfter: z.number().int().min(1).max(20).default(2),
  /** Present for targets whose mail flow is proven with round-trip probes. */
  probe: z
    .strictObject({
      to: address,
      warningSeconds: seconds().optional(),
      criticalSeconds: seconds().optional(),
      /** Fetch mode: the probe is found in this mailbox over IMAP or POP3 (no `~/.forward` return). */
      fetch: fetchSchema.optional(),
      /**
       * The authserv-ids whose Authentication-Results count (a name or a domain covering its
       * subdomains; "(none)" for fields without one, as Microsoft 365 writes them). Default:
       * the probe address's domain and the target's endpoint host names.
       */
      receiverAuthservIds: z
        .array(
          z.string().regex(/^(?:\(none\)|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/, {
            error: 'must be a host or domain name like mx.google.com, or "(none)"',
          }),
        )
        .min(1)
        .optional(),
      /** The status of a delivered probe the receiver judged spam; WARNING when absent. */
      junkStatus: z.enum(["OK", "WARNING", "CRITICAL"]).optional(),
      /**
       * This target's own probe key ring (local: a key file; AWS: the ARN of a Secrets Manager
       * secret holding one), so its mail server's email_return holds no key that counts for any
       * other target. Without it the target uses the global ring (probeKeyFile / the stack's secret).
       */
      keyFile: path.optional(),
    })
    .optional(),
});

export const relaySchema = z.strictObject({
  host: z.string().min(1),
  port: port.default(25),
  /** starttls: verified when offered; opportunistic: not verified; see README "Configuration". */
  tls: z.enum(["starttls", "opportunistic", "require-starttls", "implicit", "none"]).default("starttls"),
  caFile: path.optional(),
  user: z.string().min(1).optional(),
  passwordFile: path.optional(),
});

export const webhookEndpointSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    error: "must be 1-64 characters of letters, digits, . _ - (it names the endpoint in logs and the outbox)",
  }),
  url: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }),
  /** Local mode: a file holding the endpoint's `whsec_...` secret. On AWS: the webhook secret in Secrets Manager. */
  secretFile: path.optional(),
  /** Only events of these customers' targets; all customers when absent. */
  customers: z.array(z.string().min(1).max(64)).min(1).optional(),
  /** Only these event types; all when absent. */
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).optional(),
  timeoutSeconds: z.number().positive().max(60).default(10),
  /**
   * Lets this endpoint's URL be, or resolve to, a link-local (169.254.0.0/16, fe80::/10), cloud
   * metadata or unspecified address; refused otherwise. Loopback and RFC 1918 need no flag.
   */
  allowLinkLocalAddresses: z.boolean().default(false),
});

export const webhooksSchema = z
  .strictObject({
    endpoints: z.array(webhookEndpointSchema).default([]),
    /** Retries stop once an event is this old; it is then kept as undelivered (list, redrive). */
    maxAgeSeconds: seconds().default(86_400),
    /** Per-customer identity stamped on events of targets that name none. */
    defaultCustomer: z.string().min(1).max(64).default("default"),
  })
  .prefault({});

export const dashboardSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default("127.0.0.1"),
    port: port.default(8025),
    /** Required when host is not a loopback address: a file holding the access token. */
    tokenFile: path.optional(),
    /** Serve HTTPS with this certificate and key (PEM); the token cookie is then Secure. */
    tls: z.strictObject({ certFile: path, keyFile: path }).optional(),
    /** Serves /probe, Prometheus' multi-target pattern (one check per scrape), when present. */
    prometheusProbe: prometheusProbeSchema.optional(),
  })
  .prefault({});
