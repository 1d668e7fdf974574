import { z } from "zod";
import { parseEndpointUrl } from "../checks/endpoint.ts";
import { probeFromAddress, SECRETS_MANAGER_ARN, WEBHOOK_EVENT_TYPES } from "./config-rules.ts";

/*
 * The one configuration format, read by `email-scout serve` and the CLI, the CDK app and the
 * Lambdas (core/config/load-config.ts).
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
});

const webhooksSchema = z
  .strictObject({
    endpoints: z.array(webhookEndpointSchema).default([]),
    /** Retries stop once an event is this old; it is then kept as undelivered (list, redrive). */
    maxAgeSeconds: seconds().default(86_400),
    /** Per-customer identity stamped on events of targets that name none. */
    defaultCustomer: z.string().min(1).max(64).default("default"),
  })
  .prefault({});

const dashboardSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default("127.0.0.1"),
    port: port.default(8025),
    /** Required when host is not a loopback address: a file holding the access token. */
    tokenFile: path.optional(),
  })
  .prefault({});

/**
 * Up to this many targets the stack gives each its own alarms and dashboard row; beyond it, the
 * fleet is watched as a whole (docs/aws.md, "Alarms"). A target watched on its own adds up to 8
 * alarms (2 per protocol, 2 for its probe), and CloudFormation allows 500 resources per stack: the
 * maximum keeps 40 x 8 = 320 of them for alarms and leaves the rest to the stack itself.
 */
export const PER_TARGET_ALARMS = { default: 20, max: 40 } as const;
const perTargetAlarmsProblem = `must be a whole number from 0 to ${PER_TARGET_ALARMS.max}: each target watched on its own adds up to 8 alarms to a stack that CloudFormation limits to 500 resources`;

/** Only read by the CDK app (`cdk deploy -c config=...`); local mode ignores it. */
const awsSchema = z.strictObject({
  account: z
    .string()
    .regex(/^\d{12}$/, { error: "must be a 12-digit AWS account id" })
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: "must be a region like eu-west-1" })
    .optional(),
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
    .default("EmailScout"),
  /** NAT gateways (each with its Elastic IP, the prober's public address): 1 is cheaper, 2 survives an AZ outage. */
  natGateways: z.number().int().min(1).max(2).default(1),
  /** Where alarm notifications go (an SNS e-mail subscription); the topic is an output either way. */
  alarmEmail: address.optional(),
  /** Days a returned message stays in S3, and results in DynamoDB. */
  retentionDays: z.number().int().min(1).max(3650).default(30),
  logRetentionDays: z.number().int().min(1).max(3650).default(30),
  /**
   * The prober's memory in MB (Lambda's 128-10240). Lambda gives CPU in proportion to memory (one
   * vCPU at 1,769 MB) at one price per GB-second, so the CPU-bound checks cost about the same at
   * any size and more memory finishes a large run sooner (docs/aws.md, "Prober memory").
   */
  proberMemoryMb: z.number().int().min(128).max(10240).default(512),
  /**
   * The account is in the SES sandbox, where SES sends only to verified identities and checks its
   * IAM authorization against each recipient's identity too: the prober may then send to the
   * identities of the probe addresses (each address, and its domain).
   */
  sesSandbox: z.boolean().default(false),
  /**
   * A custom MAIL FROM for the probes: this label under the inbound domain (say "bounce", for
   * bounce.scout-returns.example.com), with its MX at SES's feedback endpoint, so the envelope
   * sender is the operator's domain and SPF aligns for DMARC. Off: SES's own amazonses.com.
   */
  mailFromSubdomain: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i, {
      error: "must be one DNS label like bounce (letters, digits, inner hyphens)",
    })
    .optional(),
  /** Targets watched one by one (alarms and a dashboard row each) up to this count; the fleet as a whole beyond it. */
  perTargetAlarmsUpTo: z
    .number()
    .int({ error: perTargetAlarmsProblem })
    .min(0, { error: perTargetAlarmsProblem })
    .max(PER_TARGET_ALARMS.max, { error: perTargetAlarmsProblem })
    .default(PER_TARGET_ALARMS.default),
  /**
   * An Elastic IP allocated once outside the stack, for the NAT gateway: AWS's port-25 approval
   * and the customers' allowlists name its address, which then outlives the stack (deleted and
   * deployed again). Left out, the stack allocates the address and keeps it on delete.
   */
  natEipAllocationId: z
    .string()
    .regex(/^eipalloc-[0-9a-f]{8,17}$/, {
      error:
        "must be an Elastic IP allocation id like eipalloc-0123456789abcdef0 (aws ec2 describe-addresses)",
    })
    .optional(),
  /**
   * A Route 53 public hosted zone holding the inbound domain (with hostedZoneName, since the stack
   * looks nothing up): the stack then publishes the DKIM CNAMEs and the inbound MX record in it.
   */
  hostedZoneId: z
    .string()
    .regex(/^Z[0-9A-Z]{5,31}$/, {
      error: "must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ (without /hostedzone/)",
    })
    .optional(),
  /** The hosted zone's domain name: the inbound domain or a parent of it. */
  hostedZoneName: domain.optional(),
  /**
   * Activate the stack's SES receipt rule set when the region has none active (never replacing an
   * active one: the deploy stops and says what to do). Default: on with hostedZoneId, else off.
   */
  activateReceiptRuleSet: z.boolean().optional(),
  /**
   * Prober invocations per scheduled run, each checking and probing the targets whose id hashes
   * to it (core/cycle/shards.ts). Left out: one per 1,000 endpoints (lib/config/prober-shards.ts).
   */
  proberShards: z.number().int().min(1).max(100).optional(),
  /**
   * The prober runs on its schedule and the alarms notify. False for a first deploy, until the
   * probe key, the SES identity, the MX record and the receipt rule set are in place: the schedule
   * rules are then created disabled and the alarms' actions off, since until the prober runs its
   * check alarms (no data is failing) and ProberNotRunning would only page that it does not.
   */
  scheduleEnabled: z.boolean().default(true),
});

const configFields = {
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
  /** Local mode: probes, check results and rejections older than this are pruned (hourly). */
  retentionDays: z.number().int().min(1).max(3650).default(30),
  webhooks: webhooksSchema,
  dashboard: dashboardSchema,
  aws: awsSchema.optional(),
};

/** The deploy variant: on AWS there is no data directory and the probe key is in Secrets Manager. */
const deployObject = z.strictObject({
  ...configFields,
  dataDir: path.optional(),
  probeKeyFile: path.optional(),
});
/** Checks across keys, shared by the local and the deploy variants. */
function crossChecks(config: z.infer<typeof deployObject>, context: z.RefinementCtx): void {
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
  const endpointIds = new Set<string>();
  config.webhooks.endpoints.forEach((endpoint, index) => {
    if (endpointIds.has(endpoint.id)) {
      context.addIssue({
        code: "custom",
        path: ["webhooks", "endpoints", index, "id"],
        message: `duplicate webhook endpoint id "${endpoint.id}"`,
      });
    }
    endpointIds.add(endpoint.id);
  });
  if (!isLoopbackHost(config.dashboard.host) && config.dashboard.enabled && !config.dashboard.tokenFile) {
    context.addIssue({
      code: "custom",
      path: ["dashboard", "tokenFile"],
      message: `is required when the dashboard listens beyond loopback (host ${config.dashboard.host}); or set host to 127.0.0.1`,
    });
  }
}

/** 127.0.0.0/8, ::1 and localhost: the only addresses the dashboard may use without a token. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Rules only the AWS shape adds: SES sends from the verified domain only; no password files on
 * Lambda; an existing Elastic IP serves one NAT gateway; a hosted zone holds the inbound domain.
 */
function awsChecks(config: z.infer<typeof deployObject>, context: z.RefinementCtx): void {
  const fromDomain = probeFromAddress(config).split("@")[1]?.toLowerCase();
  if (fromDomain !== config.inbound.domain.toLowerCase()) {
    context.addIssue({
      code: "custom",
      path: ["outbound", "from"],
      message: `must be at the inbound domain ${config.inbound.domain} on AWS: SES sends only from the identity this stack verifies`,
    });
  }
  if (config.aws?.natEipAllocationId !== undefined && config.aws.natGateways !== 1) {
    context.addIssue({
      code: "custom",
      path: ["aws", "natEipAllocationId"],
      message: `is the Elastic IP of one NAT gateway: with natGateways ${config.aws.natGateways}, leave it out (the stack then allocates the addresses and keeps them)`,
    });
  }
  hostedZoneChecks(config, context);
  config.targets.forEach((target, t) => {
    target.endpoints.forEach((endpoint, e) => {
      const reference = endpoint.login?.passwordFile;
      if (reference !== undefined && !SECRETS_MANAGER_ARN.test(reference)) {
        context.addIssue({
          code: "custom",
          path: ["targets", t, "endpoints", e, "login", "passwordFile"],
          message:
            "on AWS this must be the ARN of a Secrets Manager secret holding the password (arn:aws:secretsmanager:<region>:<account>:secret:<name>), not a file path",
        });
      }
    });
  });
}

/** The hosted zone is named by id and name together, and holds the inbound domain. */
function hostedZoneChecks(config: z.infer<typeof deployObject>, context: z.RefinementCtx): void {
  const { hostedZoneId, hostedZoneName } = config.aws ?? {};
  if ((hostedZoneId === undefined) !== (hostedZoneName === undefined)) {
    context.addIssue({
      code: "custom",
      path: ["aws", hostedZoneId === undefined ? "hostedZoneId" : "hostedZoneName"],
      message:
        "is required with the other of hostedZoneId and hostedZoneName: the stack needs both, and looks neither up",
    });
    return;
  }
  if (hostedZoneName === undefined) return;
  const zone = hostedZoneName.toLowerCase();
  const inbound = config.inbound.domain.toLowerCase();
  if (inbound !== zone && !inbound.endsWith(`.${zone}`)) {
    context.addIssue({
      code: "custom",
      path: ["aws", "hostedZoneName"],
      message: `must be the inbound domain ${config.inbound.domain} or a parent of it: its MX and DKIM records go in this zone`,
    });
  }
}

/** Local mode (`email-scout serve`): everything, with dataDir and probeKeyFile required. */
export const configSchema = z.strictObject(configFields).superRefine(crossChecks);
/** The deploy format without the AWS rules: local-only keys may be left out (and are ignored). */
export const deployConfigSchema = deployObject.superRefine(crossChecks);
/** The AWS shape (the CDK app and the Lambdas): the deploy format and the rules only AWS adds. */
export const awsDeployConfigSchema = deployConfigSchema.superRefine(awsChecks);

export type ScoutConfig = z.infer<typeof configSchema>;
export type DeployConfig = z.infer<typeof deployConfigSchema>;
export type WebhookEndpointConfig = z.infer<typeof webhookEndpointSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type EndpointConfig = z.infer<typeof endpointSchema>;
export type ThresholdsConfig = z.infer<typeof thresholdsSchema>;
