import { z } from "zod";
import { parseEndpointUrl } from "../checks/endpoint.ts";
import { parseLoginMechanism } from "../checks/sasl/parse-mechanism.ts";
import { refusedUrlHost } from "../webhook/target-address.ts";
import { awsSchema } from "./aws-schema.ts";
import { probeFromAddress, SECRETS_MANAGER_ARN } from "./config-rules.ts";
import { address, domain, path, port, seconds } from "./fields.ts";
import { openRelayTestChecks } from "./open-relay-test-schema.ts";
import { postureSchema } from "./posture-schema.ts";
import {
  dashboardSchema,
  endpointSchema,
  loginSchema,
  relaySchema,
  targetSchema,
  webhookEndpointSchema,
  webhooksSchema,
} from "./target-schemas.ts";
import { thresholdsSchema } from "./thresholds-schema.ts";

export { thresholdsSchema };

/*
 * The one configuration format, read by `email-scout serve` and the CLI, the CDK app and the
 * Lambdas (core/config/load-config.ts).
 * Strict everywhere: an unknown key is an error that names it, because a misspelt
 * threshold that is silently ignored is worse than a refusal to start.
 */

export { dashboardSchema, endpointSchema, loginSchema, relaySchema, targetSchema, webhookEndpointSchema };

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
    /** A listener session is cut this long after it opened, however busy: no drip-feeder holds a slot. */
    sessionTimeoutSeconds: seconds().min(1).max(3600).default(120),
    /** Connections one remote address may hold at once (all clients together: 100). */
    maxConnectionsPerClient: z.number().int().min(1).max(100).default(5),
    /** Rejected messages one remote address may send in a minute before it is refused (421). */
    maxRejectedPerMinute: z.number().int().min(1).max(10_000).default(10),
    /** spool/rejected/ keeps rejected mail this many days, and at most rejectedMaxBytes of it. */
    rejectedRetentionDays: z.number().int().min(1).max(3650).default(7),
    rejectedMaxBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(100 * 1024 * 1024),
  }),
  outbound: z
    .strictObject({
      from: address.optional(),
      relay: relaySchema.optional(),
      heloName: z.string().min(1).optional(),
      /** Local mode: DKIM-sign every probe (RFC 6376) so a receiver's DMARC can pass. */
      dkim: z
        .strictObject({
          /** The d= domain: the From address's domain or a parent of it, for DMARC alignment. */
          domain,
          selector: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62})$/, {
            error: "must be a DKIM selector like scout2026 (letters, digits, . _ -)",
          }),
          /** PEM private key (RSA or Ed25519), readable by its owner only. */
          privateKeyFile: path,
        })
        .optional(),
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
  posture: postureSchema,
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

/** A named login mechanism must be one the endpoint's protocol can use (parseLoginMechanism says why not). */
function loginMechanismChecks(config: z.infer<typeof deployObject>, context: z.RefinementCtx): void {
  config.targets.forEach((target, t) => {
    target.endpoints.forEach((endpoint, e) => {
      const mechanism = endpoint.login?.mechanism;
      if (mechanism === undefined) return;
      try {
        parseLoginMechanism(mechanism, parseEndpointUrl(endpoint.url).protocol);
      } catch (error) {
        context.addIssue({
          code: "custom",
          path: ["targets", t, "endpoints", e, "login", "mechanism"],
          message: (error as Error).message,
        });
      }
    });
  });
}

/** Checks across keys, shared by the local and the deploy variants. */
function crossChecks(config: z.infer<typeof deployObject>, context: z.RefinementCtx): void {
  loginMechanismChecks(config, context);
  openRelayTestChecks(config, context);
  const dkim = config.outbound.dkim;
  const fromDomain = probeFromAddress(config).split("@")[1]?.toLowerCase() ?? "";
  const dkimDomain = dkim?.domain.toLowerCase();
  // DMARC (RFC 7489 §3.1.1, relaxed alignment) counts a signature whose d= is the From domain
  // or a parent of it; any other d= verifies but never lets DMARC pass.
  if (dkimDomain !== undefined && fromDomain !== dkimDomain && !fromDomain.endsWith(`.${dkimDomain}`)) {
    context.addIssue({
      code: "custom",
      path: ["outbound", "dkim", "domain"],
      message: `must be the probes' From domain ${fromDomain} or a parent of it, or DMARC can never pass on its signature`,
    });
  }
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
    const wait = target.probe?.fetch?.waitSeconds;
    if (wait !== undefined && wait > config.roundTrip.deadlineSeconds) {
      context.addIssue({
        code: "custom",
        path: ["targets", index, "probe", "fetch", "waitSeconds"],
        message: `must not exceed roundTrip.deadlineSeconds (${config.roundTrip.deadlineSeconds})`,
      });
    }
    if (target.endpoints.length === 0 && !target.probe && target.domain === undefined) {
      context.addIssue({
        code: "custom",
        path: ["targets", index],
        message: "has neither endpoints nor a probe nor a domain: nothing to watch",
      });
    }
    if (target.posture !== undefined && target.domain === undefined) {
      context.addIssue({
        code: "custom",
        path: ["targets", index, "posture"],
        message: "needs the target's domain (targets[].domain) to check the posture of",
      });
    }
  });
  // The schedule reads the last posture run from the stored results: pruned, it would run early.
  const retentionDays = config.aws?.retentionDays ?? config.retentionDays;
  if (config.posture.intervalSeconds > retentionDays * 86_400) {
    context.addIssue({
      code: "custom",
      path: ["posture", "intervalSeconds"],
      message: `must not exceed the results' retention (${retentionDays} day${retentionDays === 1 ? "" : "s"}): the last run would be pruned before the next is due`,
    });
  }
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
  if (config.outbound.relay?.user && ["opportunistic", "none"].includes(config.outbound.relay.tls)) {
    context.addIssue({
      code: "custom",
      path: ["outbound", "relay", "tls"],
      message: `a relay login needs verified TLS (the password would go to whoever answers): use starttls, require-starttls or implicit, not ${config.outbound.relay.tls}`,
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
    const refused = endpoint.allowLinkLocalAddresses ? undefined : refusedUrlHost(new URL(endpoint.url));
    if (refused) {
      context.addIssue({
        code: "custom",
        path: ["webhooks", "endpoints", index, "url"],
        message: `points at ${refused.address}, ${refused.kind}: webhooks are not sent to link-local, metadata or unspecified addresses; use the receiver's own address, or set allowLinkLocalAddresses: true on this endpoint if it really listens there`,
      });
    }
  });
  if (!isLoopbackHost(config.dashboard.host) && config.dashboard.enabled && !config.dashboard.tokenFile) {
    context.addIssue({
      code: "custom",
      path: ["dashboard", "tokenFile"],
      message: `is required when the dashboard listens beyond loopback (host ${config.dashboard.host}); or set host to 127.0.0.1`,
    });
  }
}

/** The prober Lambda runs for at most 5 minutes; its fetch-mode waits leave room for the rest of the run. */
export const AWS_MAX_FETCH_WAIT_SECONDS = 180;

/** The posture runs beside the checks inside the same 5-minute run: its budget leaves room for them. */
export const AWS_MAX_POSTURE_BUDGET_SECONDS = 180;

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
  if (config.outbound.dkim !== undefined) {
    context.addIssue({
      code: "custom",
      path: ["outbound", "dkim"],
      message: "is for local mode: on AWS, SES signs every probe with the domain identity's Easy DKIM key",
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
  if (config.posture.budgetSeconds > AWS_MAX_POSTURE_BUDGET_SECONDS) {
    context.addIssue({
      code: "custom",
      path: ["posture", "budgetSeconds"],
      message: `must be at most ${AWS_MAX_POSTURE_BUDGET_SECONDS} on AWS: the prober runs the posture inside its 5-minute run, beside the checks`,
    });
  }
  config.targets.forEach((target, t) => {
    const keyReference = target.probe?.keyFile;
    if (keyReference !== undefined && !SECRETS_MANAGER_ARN.test(keyReference)) {
      context.addIssue({
        code: "custom",
        path: ["targets", t, "probe", "keyFile"],
        message:
          "on AWS this must be the ARN of a Secrets Manager secret holding the target's probe key file (arn:aws:secretsmanager:<region>:<account>:secret:<name>), not a file path",
      });
    }
    const fetch = target.probe?.fetch;
    const fetchSecrets: Array<[string[], string | undefined]> = [
      [["passwordFile"], fetch?.passwordFile],
      [["oauth", "clientSecretFile"], fetch?.oauth?.clientSecretFile],
    ];
    if (fetch !== undefined && fetch.waitSeconds > AWS_MAX_FETCH_WAIT_SECONDS) {
      context.addIssue({
        code: "custom",
        path: ["targets", t, "probe", "fetch", "waitSeconds"],
        message: `must be at most ${AWS_MAX_FETCH_WAIT_SECONDS} on AWS: the prober waits inside its 5-minute run, beside the checks; a probe found later is found by the next run`,
      });
    }
    for (const [keys, reference] of fetchSecrets) {
      if (reference === undefined || SECRETS_MANAGER_ARN.test(reference)) continue;
      context.addIssue({
        code: "custom",
        path: ["targets", t, "probe", "fetch", ...keys],
        message:
          "on AWS this must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>), not a file path",
      });
    }
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
export type { FetchConfig } from "./fetch-schema.ts";
export type ThresholdsConfig = z.infer<typeof thresholdsSchema>;
