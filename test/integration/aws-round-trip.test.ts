import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESClient, SendRawEmailCommand } from "@aws-sdk/client-ses";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Clock } from "../../core/ports/clock.ts";
import type { ProbeRecord } from "../../core/ports/probe-store.ts";
import { formatProbeKeyRing, newProbeKey } from "../../core/wire/probe-key.ts";
import { documentClient } from "../../lambdas/aws/dynamo-client.ts";
import { DynamoProbeStore } from "../../lambdas/aws/dynamo-probe-store.ts";
import { createCorrelatorHandler } from "../../lambdas/handlers/correlator.ts";
import { createProberHandler, type ProberSummary } from "../../lambdas/handlers/prober.ts";
import { installReturn, uninstallReturn } from "../../local/return-install/return-install.ts";
import { lookupUser } from "../../local/return-install/system-user.ts";
import {
  createScoutTables,
  type DynamoStandIn,
  FAKE_CREDENTIALS,
  REGION,
  type S3StandIn,
  startDynalite,
  startS3rver,
  useFakeAwsEnvironment,
} from "../support/aws-standins.ts";
import { makeSelfSigned } from "../support/certs.ts";
import { type DemoHost, demoHost } from "../support/demo-host.ts";
import { writeLambdaConfig } from "../support/lambda-config.ts";
import { RecordingLogger } from "../support/recording-logger.ts";
import { type SesReceiptStandIn, startSesReceiptStandIn } from "../support/ses-receipt-standin.ts";
import { type SesSendingStandIn, startSesSendingStandIn } from "../support/ses-sending-standin.ts";

/*
 * The AWS shape's round trip on one machine: the prober handler sends its probes with a real
 * SESClient to the SES stand-in, which relays them into the demo host's Postfix; the built
 * email_return answers from probe-aws's ~/.forward; Postfix delivers the return (and its own
 * bounces) for scout-aws.test to the receipt rule's stand-in on 127.0.0.1:2528, which stores
 * each message in s3rver as SES does and invokes the correlator handler with the S3 event.
 * DynamoDB is dynalite; Secrets Manager and the events queue are aws-sdk-client-mock.
 */
useFakeAwsEnvironment();
// The handlers print their EMF metrics to stdout; this test reads the stores and the queue.
process.env.POWERTOOLS_METRICS_DISABLED = "true";

const ROOT = join(import.meta.dirname, "../..");
const INBOUND = "scout-aws.test";
const RETURN_TO = `returns@${INBOUND}`;
/** scripts/demo-mailhost.sh routes INBOUND here. */
const RECEIPT_PORT = 2528;
const RECEIPT_ROUTE = `smtp:[127.0.0.1]:${RECEIPT_PORT}`;
/** A mailbox of its own (a pipe-only demo user), so no other test's ~/.forward is touched. */
const PROBE_USER = "probe-aws";
/** Keeps what it receives and never answers; the local round-trip test's lost case uses it too. */
const SILENT_USER = "probe-void";
const DEADLINE_S = 60;
/** The stack's probe configuration set (suppression list off), by name. */
const CONFIGURATION_SET = "EmailScout-probes";
const KEY_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout-probe-key-AbCdEf";
const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/scout-events";
/** Polling, not sleeping: each wait ends as soon as its condition holds. */
const WAIT = { timeout: 60_000, interval: 100 };
const scheduledEvent = JSON.parse(
  readFileSync(join(ROOT, "test/fixtures/aws/scheduled-event.json"), "utf8"),
) as unknown;

const secretsManager = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);
const key = { id: "k1", key: newProbeKey() };

interface Deployment {
  readonly probes: DynamoProbeStore;
  readonly log: RecordingLogger;
  prober(clock?: Clock): ReturnType<typeof createProberHandler>;
  readonly correlator: ReturnType<typeof createCorrelatorHandler>;
}

let demo: DemoHost;
let dir: string;
let dynamo: DynamoStandIn;
let s3: S3StandIn;
let sending: SesSendingStandIn;
let receipt: SesReceiptStandIn;
let main: Deployment;
let firstRun: ProberSummary;
let installed = false;

beforeAll(async () => {
  demo = demoHost();
  const route = execFileSync("postmap", ["-q", INBOUND, "hash:/etc/postfix/transport"], {
    encoding: "utf8",
    timeout: 10_000,
  }).trim();
  if (route !== RECEIPT_ROUTE) {
    throw new Error(
      `the demo host routes ${INBOUND} to "${route}", not ${RECEIPT_ROUTE}: run bash scripts/demo-mailhost.sh up`,
    );
  }
  execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT });
  dir = mkdtempSync(join(tmpdir(), "scout-aws-rt-"));
  const keyFile = join(dir, "probe.key");
  writeFileSync(keyFile, formatProbeKeyRing([key]), { mode: 0o600 });
  installReturn({
    user: PROBE_USER,
    returnTo: RETURN_TO,
    keyFile,
    script: join(ROOT, "dist/email_return.cjs"),
    nodePath: process.execPath,
    log: true,
  });
  installed = true;

  const inboundHost = `inbound-smtp.${REGION}.amazonaws.com`;
  const [dynamoStandIn, s3StandIn, sendingStandIn, receiptCert] = await Promise.all([
    startDynalite(),
    startS3rver(),
    startSesSendingStandIn({
      relayTo: {
        host: demo.host,
        port: 25,
        ca: readFileSync(demo.caFile),
        heloName: `a1-2.smtp-out.${REGION}.amazonses.com`,
      },
      configurationSets: [CONFIGURATION_SET],
    }),
    makeSelfSigned(`CN=${inboundHost}`, [{ type: "dns", value: inboundHost }]),
  ]);
  [dynamo, s3, sending] = [dynamoStandIn, s3StandIn, sendingStandIn];
  receipt = await startSesReceiptStandIn({
    port: RECEIPT_PORT,
    domains: [INBOUND],
    region: REGION,
    s3,
    objectKeyPrefix: "returns/",
    tls: receiptCert,
    invoke: (event) => main.correlator(event),
  });

  secretsManager
    .on(GetSecretValueCommand, { SecretId: KEY_ARN })
    .resolves({ SecretString: formatProbeKeyRing([key]) });
  sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });

  main = await deploy([
    { id: "ok", probe: { to: `${PROBE_USER}@scout.test` } },
    // An alias the demo host accepts at RCPT time and bounces on delivery (5.1.1).
    { id: "gone", probe: { to: "probe-gone@scout.test" } },
    { id: "refused", probe: { to: "no-such-user@scout.test" } },
  ]);
  firstRun = await main.prober()(scheduledEvent);
}, 180_000);

afterAll(async () => {
  await receipt?.settled();
  await Promise.all([receipt?.close(), sending?.close()]);
  await Promise.all([dynamo?.close(), s3?.close()]);
  if (installed) uninstallReturn(PROBE_USER);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the AWS shape's round trip through SES stand-ins and the real Postfix", () => {
  it("the prober hands each probe to SES, which relays it into Postfix", async () => {
    expect(firstRun).toMatchObject({ probesSent: 2, sendFailed: 1, lost: 0, errors: [] });
    const ok = await probeOf(main, "ok");
    const relayed = sending.relayed.find((message) => message.destinations.includes(ok.toAddress));
    // SendRawEmail's Source is the envelope sender: bounces come back to the probe's own address.
    expect(relayed?.source).toBe(`bounces+${ok.probeId}@${INBOUND}`);
    // With the configuration set whose suppression list is off, after one read of the quota.
    expect(relayed?.configurationSetName).toBe(CONFIGURATION_SET);
    expect(sending.requests[0]?.action).toBe("GetSendQuota");
    expect(relayed?.raw.toString("latin1")).toMatch(/^X-Scout-Probe: /m);
    expect(relayed?.response).toMatch(/^250 /);
  });

  it("a probe comes back: returned in DynamoDB with its RTT and hops, and roundtrip.completed queued", async () => {
    const { probeId } = await probeOf(main, "ok");
    const probe = await settled(main, probeId, "returned");
    expect(probe.rttMs).toBeGreaterThan(0);
    expect(probe.rttMs).toBeLessThan(DEADLINE_S * 1000);
    expect(probe.rttMs).toBe((probe.returnedAtMs ?? 0) - probe.sentAtMs);
    expect(probe.hops?.some((hop) => hop.by?.includes("mail.scout.test"))).toBe(true);
    expect(await queuedOutcome(probeId)).toMatchObject({ outcome: "returned", rttMs: probe.rttMs });

    // The return as SES stored it: key returns/<SES message id>, SES's fields on top, as S3 holds
    // it. It is found by the probe id in its In-Reply-To (the probe's Message-ID).
    const stored = receipt.received.find(
      (message) => message.recipients.includes(RETURN_TO) && message.stored.includes(probeId),
    );
    expect(stored?.key).toMatch(/^returns\/[0-9a-v]{40}$/);
    const text = stored?.stored.toString("latin1") ?? "";
    expect(text).toMatch(
      new RegExp(
        `^Return-Path: <${PROBE_USER}@scout\\.test>\\r\\n` +
          `Received: from mail\\.scout\\.test \\(mail\\.scout\\.test \\[127\\.0\\.0\\.1\\]\\)\\r\\n` +
          ` by inbound-smtp\\.${REGION}\\.amazonaws\\.com with SMTP id ${stored?.messageId}\\r\\n` +
          ` for ${RETURN_TO};\\r\\n \\w{3}, \\d{2} \\w{3} \\d{4} [\\d:]{8} \\+0000 \\(UTC\\)\\r\\n`,
      ),
    );
    const object = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: stored?.key }));
    expect(Buffer.from((await object.Body?.transformToByteArray()) ?? [])).toEqual(stored?.stored);
    expect(await stored?.invocation).toEqual({ result: { records: 1, returned: 1, events: 1 } });
  });

  it("a probe to a mailbox that does not exist ends bounced with Postfix's DSN, received as SES would", async () => {
    const { probeId } = await probeOf(main, "gone");
    const probe = await settled(main, probeId, "bounced");
    expect(probe.bounce?.status).toBe("5.1.1");
    expect(probe.bounce?.diagnostic).toMatch(/unknown user/i);
    expect(await queuedOutcome(probeId)).toMatchObject({ outcome: "bounced", bounce: { status: "5.1.1" } });
    // The DSN reached SES at the probe's bounce address, from the null sender.
    const dsn = receipt.received.find((message) =>
      message.recipients.includes(`bounces+${probeId}@${INBOUND}`),
    );
    expect(dsn?.mailFrom).toBe("");
    expect(dsn?.stored.toString("latin1")).toMatch(/^Return-Path: <>\r\n/);
    expect(await dsn?.invocation).toEqual({ result: { records: 1, bounced: 1, events: 1 } });
  });

  it("a recipient Postfix refuses makes SES answer MessageRejected: the probe is send-failed", async () => {
    const probe = await probeOf(main, "refused");
    expect(probe.state).toBe("send-failed");
    // SES's code first, then what it said.
    expect(probe.error).toMatch(
      /^MessageRejected: the MTA refused the message: 550 5\.1\.1 <no-such-user@scout\.test>/,
    );
    expect(await queuedOutcome(probe.probeId)).toMatchObject({ outcome: "send-failed" });
    // The SDK read SES's XML error as its MessageRejected.
    const refusal = sesClient().send(
      new SendRawEmailCommand({
        Source: RETURN_TO,
        Destinations: [probe.toAddress],
        RawMessage: { Data: Buffer.from(`From: ${RETURN_TO}\r\nSubject: refused\r\n\r\nrefused\r\n`) },
      }),
    );
    await expect(refusal).rejects.toMatchObject({
      name: "MessageRejected",
      $fault: "client",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("a probe the mailbox keeps and never answers ends lost once a later run's clock is past its deadline", async () => {
    const silent = await deploy([{ id: "void", probe: { to: `${SILENT_USER}@scout.test` } }]);
    expect(await silent.prober()(scheduledEvent)).toMatchObject({ probesSent: 1, errors: [] });
    const probe = await probeOf(silent, "void");
    // It reached the mailbox: nothing but the missing answer makes it lost.
    await removeDelivered(SILENT_USER, probe.probeId);

    const later = await silent.prober({ now: () => probe.deadlineMs + 1_000 })(scheduledEvent);
    expect(later).toMatchObject({ lost: 1, errors: [] });
    expect((await silent.probes.get(probe.probeId))?.state).toBe("lost");
    expect(await queuedOutcome(probe.probeId)).toMatchObject({ outcome: "lost" });
    // The later run sent a probe of its own, which the mailbox keeps too.
    const [next] = await silent.probes.recent("void", probe.sentAtMs + 1, 1);
    await removeDelivered(SILENT_USER, next?.probeId ?? "(none)");
  });

  it("every stored message reached the correlator without a failure", async () => {
    await receipt.settled();
    expect(receipt.received.length).toBeGreaterThanOrEqual(2);
    const invocations = await Promise.all(receipt.received.map((message) => message.invocation));
    expect(invocations.filter((invocation) => "error" in invocation)).toEqual([]);
  });
});

let tableSets = 0;

/** Fresh tables, a config with `targets`, and both handlers wired to the stand-ins. */
async function deploy(targets: object[]): Promise<Deployment> {
  tableSets += 1;
  const tables = await createScoutTables(dynamo.client);
  const configFile = join(dir, `scout-config-${tableSets}.json`);
  writeLambdaConfig(configFile, {
    inbound: { domain: INBOUND, returnAddress: RETURN_TO },
    roundTrip: { deadlineSeconds: DEADLINE_S, warningSeconds: 10, criticalSeconds: 30 },
    targets,
    // One endpoint that wants every event: the queue gets one message per event.
    webhooks: { endpoints: [{ id: "notifier", url: "https://hooks.example.com/scout" }] },
    aws: { retentionDays: 7 },
  });
  const log = new RecordingLogger();
  const common = {
    env: {
      PROBES_TABLE: tables.probesTable,
      RESULTS_TABLE: tables.resultsTable,
      RETURNS_BUCKET: s3.bucket,
      PROBE_KEY_SECRET_ARN: KEY_ARN,
      SCOUT_CONFIG_FILE: configFile,
      SES_FROM: `Email Scout <scout@${INBOUND}>`,
      SES_CONFIGURATION_SET: CONFIGURATION_SET,
      EVENTS_QUEUE_URL: QUEUE_URL,
    },
    log,
    dynamodb: dynamo.client,
    secretsManager: new SecretsManagerClient({ region: REGION }),
    sqs: new SQSClient({ region: REGION }),
  };
  const ses = sesClient();
  return {
    probes: new DynamoProbeStore({ doc: documentClient(dynamo.client), ...tables, retentionDays: 7 }),
    log,
    prober: (clock) => createProberHandler({ ...common, ses, ...(clock ? { clock } : {}) }),
    correlator: createCorrelatorHandler({ ...common, s3: s3.client }),
  };
}

/** A real SES client, pointed at the stand-in. */
function sesClient(): SESClient {
  return new SESClient({
    region: REGION,
    endpoint: sending.endpoint,
    credentials: FAKE_CREDENTIALS,
    maxAttempts: 1,
  });
}

async function probeOf(deployment: Deployment, targetId: string): Promise<ProbeRecord> {
  const [probe] = await deployment.probes.recent(targetId, 0, 1);
  if (probe === undefined) throw new Error(`no probe for ${targetId}`);
  return probe;
}

/** Waits until the probe has left "sent"; it must have gone to `state`. */
async function settled(deployment: Deployment, probeId: string, state: string): Promise<ProbeRecord> {
  const probe = await vi.waitFor(async () => {
    const record = await deployment.probes.get(probeId);
    if (record === undefined || record.state === "sent") {
      const notes = deployment.log.entries.filter((entry) => entry.level !== "info");
      throw new Error(`probe ${probeId} still sent; warnings and errors: ${JSON.stringify(notes)}`);
    }
    return record;
  }, WAIT);
  expect(probe.state, JSON.stringify(deployment.log.entries)).toBe(state);
  return probe;
}

/** The data of the probe's roundtrip.completed once it is on the queue. */
async function queuedOutcome(probeId: string): Promise<Record<string, unknown>> {
  return vi.waitFor(() => {
    const data = sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((call) => call.args[0].input.Entries ?? [])
      .map(
        (entry) => JSON.parse(entry.MessageBody ?? "{}") as { type: string; data: Record<string, unknown> },
      )
      .find((event) => event.type === "roundtrip.completed" && event.data.probeId === probeId)?.data;
    if (data === undefined) throw new Error(`no roundtrip.completed queued for ${probeId}`);
    return data;
  }, WAIT);
}

/** Waits until the probe sits in `user`'s Maildir, then removes it: the mailbox is left as found. */
async function removeDelivered(user: string, probeId: string): Promise<void> {
  const maildir = join(lookupUser(user).home, "Maildir/new");
  const file = await vi.waitFor(() => {
    const found = readdirSync(maildir)
      .map((name) => join(maildir, name))
      .find((path) => readFileSync(path, "latin1").includes(probeId));
    if (found === undefined) throw new Error(`probe ${probeId} not in ${maildir}`);
    return found;
  }, WAIT);
  rmSync(file);
}
