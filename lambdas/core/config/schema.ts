import { z } from "zod";
import { parseEndpointUrl } from "../../checks/endpoint.ts";

/*
 * The one configuration format, read by `email-scout serve` and (later) the CDK app.
 * Strict everywhere: an unknown key is an error that names it, because a misspelt
 * threshold that is silently ignored is worse than a refusal to start.
 */

/** A duration in seconds, up to 30 days. */
const seconds = () =>
  z
    .number()
    .positive()
    .max(86_400 * 30);
const days = z.number().int().min(0).max(3650);
const address = z.string().regex(/^[^\s@<>()]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$/, {
  error: "must be a plain mail address like probe@example.com",
});
const domain = z
  .string()
  .regex(/^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$/, {
    error: "must be a domain name like scout-returns.example.com",
  });
const path = z.string().min(1);
const port = z.number().int().min(0).max(65_535);

export const thresholdsSchema = z.strictObject({
  warningSeconds: seconds().optional(),
  criticalSeconds: seconds().optional(),
  certWarningDays: days.optional(),
  certCriticalDays: days.optional(),
  expectBanner: z
    .string()
    .refine(
      (pattern) => {
        try {
          new RegExp(pattern);
          return true;
        } catch {
          return false;
        }
      },
      { error: "is not a valid regular expression" },
    )
    .optional(),
  verifyTls: z.boolean().optional(),
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
  login: z.strictObject({ user: z.string().min(1), passwordFile: path }).optional(),
  thresholds: thresholdsSchema.optional(),
});

export const targetSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    error: "must be 1-64 characters of letters, digits, . _ - (it names the target in metrics)",
  }),
  customer: z.string().min(1).max(64).optional(),
  endpoints: z.array(endpointSchema).default([]),
  /** Defaults for this target's endpoints. */
  thresholds: thresholdsSchema.optional(),
  /** Present for targets whose mail flow is proven with round-trip probes. */
  probe: z
    .strictObject({
      to: address,
      warningSeconds: seconds().optional(),
      criticalSeconds: seconds().optional(),
    })
    .optional(),
});

export const relaySchema = z.strictObject({
  host: z.string().min(1),
  port: port.default(25),
  tls: z.enum(["starttls", "require-starttls", "implicit", "none"]).default("starttls"),
  caFile: path.optional(),
  user: z.string().min(1).optional(),
  passwordFile: path.optional(),
});

export const configSchema = z
  .strictObject({
    dataDir: path,
    probeKeyFile: path,
    schedule: z
      .strictObject({
        intervalSeconds: seconds().min(5).default(60),
        checkConcurrency: z.number().int().min(1).max(512).default(16),
      })
      .prefault({}),
    inbound: z.strictObject({
      domain,
      returnAddress: address,
      listen: z
        .strictObject({ host: z.string().min(1).default("127.0.0.1"), port: port.default(2525) })
        .prefault({}),
      tls: z.strictObject({ certFile: path, keyFile: path }).optional(),
      maxBytes: z
        .number()
        .int()
        .min(16_384)
        .max(64 * 1024 * 1024)
        .default(1024 * 1024),
    }),
    outbound: z
      .strictObject({
        from: address.optional(),
        relay: relaySchema.optional(),
        heloName: z.string().min(1).optional(),
      })
      .prefault({}),
    roundTrip: z
      .strictObject({
        deadlineSeconds: seconds().default(300),
        warningSeconds: seconds().default(30),
        criticalSeconds: seconds().default(120),
        maxAgeSeconds: seconds().default(86_400),
      })
      .prefault({}),
    targets: z.array(targetSchema).min(1, { error: "name at least one target" }),
  })
  .superRefine((config, context) => {
    const seen = new Set<string>();
    config.targets.forEach((target, index) => {
      if (seen.has(target.id)) {
        context.addIssue({
          code: "custom",
          path: ["targets", index, "id"],
          message: `duplicate target id "${target.id}"`,
        });
      }
      seen.add(target.id);
      if (target.endpoints.length === 0 && !target.probe) {
        context.addIssue({
          code: "custom",
          path: ["targets", index],
          message: "has neither endpoints nor a probe: nothing to watch",
        });
      }
    });
    const returnDomain = config.inbound.returnAddress.split("@")[1]?.toLowerCase();
    if (returnDomain !== config.inbound.domain.toLowerCase()) {
      context.addIssue({
        code: "custom",
        path: ["inbound", "returnAddress"],
        message: `must be at the inbound domain ${config.inbound.domain}, so returns reach the listener`,
      });
    }
    if (config.roundTrip.warningSeconds > config.roundTrip.criticalSeconds) {
      context.addIssue({
        code: "custom",
        path: ["roundTrip", "warningSeconds"],
        message: "must not exceed criticalSeconds",
      });
    }
    if (config.roundTrip.criticalSeconds > config.roundTrip.deadlineSeconds) {
      context.addIssue({
        code: "custom",
        path: ["roundTrip", "criticalSeconds"],
        message: "must not exceed deadlineSeconds",
      });
    }
    if (config.outbound.relay?.user && !config.outbound.relay.passwordFile) {
      context.addIssue({
        code: "custom",
        path: ["outbound", "relay", "passwordFile"],
        message: "is required with user",
      });
    }
  });

export type ScoutConfig = z.infer<typeof configSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type EndpointConfig = z.infer<typeof endpointSchema>;
export type ThresholdsConfig = z.infer<typeof thresholdsSchema>;
