/*
 * What the cycle and intake contract suites (test/unit/core/cycle, test/unit/core/intake) see
 * of a shell: one ShellRuntime per shape, local mode (shell-runtime-local.ts: LocalMonitor on
 * SQLite and a spool) and AWS (shell-runtime-aws.ts: the prober and correlator handlers on
 * dynalite, s3rver and SDK mocks). Both watch the same targets with the same config, read the
 * same manual clock, and are driven only through the shells' public surface and the stores'
 * ports, so the suites hold whatever the shells become inside.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CheckResult } from "../../core/checks/result.ts";
import type { ScoutEvent } from "../../core/events/event.ts";
import type { CheckStore } from "../../core/ports/check-store.ts";
import type { Clock } from "../../core/ports/clock.ts";
import type { ProbeRecord, ProbeStore } from "../../core/ports/probe-store.ts";
import type { StatusStore, TrackedStatus } from "../../core/ports/status-store.ts";
import type { ProbeKey, ProbeKeyRing } from "../../core/wire/probe-key.ts";
import { makeTestPki, type TestPki } from "./certs.ts";
import { closedPort } from "./line-server.ts";
import { startSmtpPeer } from "./smtp-peer.ts";

export const INBOUND_DOMAIN = "scout-returns.example.com";
export const RETURN_ADDRESS = `returns@${INBOUND_DOMAIN}`;
export const PROBE_FROM = `scout@${INBOUND_DOMAIN}`;
export const PROBE_MAILBOX = "probe@mx1.example.com";
/** Two service endpoints, no probe: one answers, one refuses; a change needs two results. */
export const CHECKED_TARGET = "mx1";
export const CHECKED_CONFIRM_AFTER = 2;
/** Round trip only; every outcome counts at once. */
export const PROBED_TARGET = "rt1";
export const DEADLINE_SECONDS = 300;
/** Fetch mode (only when a case asks for it): a target whose probe is found in a POP3 mailbox. */
export const FETCH_TARGET = "rt-fetch";
export const FETCH_MAILBOX = "probe@hosted.example.com";
export const FETCH_USER = "probe";
/** How long each cycle waits for the fetch target's probe. */
export const FETCH_WAIT_SECONDS = 10;
/**
 * With ShellOptions.ownKeyTarget: a second probe target whose key ring is its own (a key file, a
 * secret), while PROBED_TARGET keeps the global ring.
 */
export const OWN_KEY_TARGET = "rt2";
export const OWN_KEY_MAILBOX = "probe@mx2.example.com";
/** With ShellOptions.postureResolver: a target watched for its domain's DNS posture alone. */
export const POSTURE_TARGET = "dns1";
export const POSTURE_DOMAIN = "posture.test";
/** The posture target's confirmAfter: its posture checks keep posture.confirmAfter (default 1). */
export const POSTURE_CONFIRM_AFTER = 2;
/** The posture schedule's interval (its minimum); the cycles' own interval is the default 60 s. */
export const POSTURE_INTERVAL_SECONDS = 60;
/** Each DNS try's deadline, one try: a silent resolver costs a cycle this long per query. */
export const POSTURE_TIMEOUT_MS = 300;
/** The one webhook endpoint: it wants every event, so each event is queued exactly once. */
export const WEBHOOK_ENDPOINT_ID = "sentinel";

/** One probe as the shell handed it to its sender (the SMTP relay, or SES). */
export interface SentProbe {
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  readonly raw: Buffer;
}

/** The SMTP envelope of an inbound message; `from` is "" for the null sender (bounces). */
export interface InboundEnvelope {
  readonly from: string;
  readonly to: readonly string[];
}

/** What a case adds to a shell beyond the shared config. */
export interface ShellOptions {
  /** FETCH_TARGET reads this POP3 mailbox (URL), logging in as FETCH_USER with `password`. */
  readonly fetchMailbox?: { readonly url: string; readonly password: string };
  /** Called as the relay or SES accepts each probe, before the shell's send returns. */
  readonly onProbeSent?: (probe: SentProbe) => void;
  /** Adds OWN_KEY_TARGET, with a key ring of its own. */
  readonly ownKeyTarget?: boolean;
  /** Adds POSTURE_TARGET, its posture checked through this resolver ("127.0.0.1:PORT"). */
  readonly postureResolver?: string;
}

/** One posture check result as the shell reported it in its metrics (prom-client, EMF). */
export interface PostureMetric {
  readonly target: string;
  readonly check: string;
  readonly status: string;
}

/** One shell with its stores, queue and mail stand-ins; see the file comment. */
export interface ShellRuntime {
  readonly name: "local" | "aws";
  /** The monitor's clock: probes, sweeps and inbound arrival times all read it. */
  readonly clock: ManualClock;
  /** The key the shell first signs PROBED_TARGET's probes with (the global ring's first). */
  readonly probeKey: ProbeKey;
  /** PROBED_TARGET's ring as it is now: email_return's copy of it. */
  probeKeyRing(): ProbeKeyRing;
  /** OWN_KEY_TARGET's ring (ShellOptions.ownKeyTarget); undefined without it. */
  readonly ownTargetRing: ProbeKeyRing | undefined;
  /**
   * A rotation step on PROBED_TARGET's ring as an operator makes it (local: the key file
   * replaced; AWS: the secret's value), with the monitor clock then moved on until the shell
   * sees it (local: the file's next look; AWS: the secret cache's TTL).
   */
  rotateProbeKeys(edit: (ring: ProbeKeyRing) => ProbeKeyRing): Promise<void>;
  /** CHECKED_TARGET's endpoints as written in the config. */
  readonly endpoints: { readonly answering: string; readonly refusing: string };
  /** The stores, read through their ports only. */
  readonly stores: {
    readonly probes: Pick<ProbeStore, "get" | "recent" | "rejectionCounts">;
    readonly checks: Pick<CheckStore, "latestCheckResults" | "checkHistory">;
    readonly statuses: Pick<StatusStore, "getStatus">;
  };
  /** One scheduled cycle, resolved once the shell has finished it. */
  runCycle(): Promise<void>;
  /** The probes the relay or SES accepted, oldest first. */
  sentProbes(): SentProbe[];
  /**
   * Hands one inbound message to the shell as its receiving side would (local: the spool, then
   * a drain; AWS: an object under returns/ in S3, then the correlator on its notification),
   * stamped with the monitor clock's current time, and resolves once it has been processed.
   */
  deliverInbound(raw: Buffer, envelope: InboundEnvelope): Promise<{ arrivedAtMs: number }>;
  /** A target's probes, newest first. */
  probes(targetId: string): Promise<ProbeRecord[]>;
  statusOf(targetId: string, subject: string): Promise<TrackedStatus | undefined>;
  /** Every posture check result the shell has reported as a metric so far, oldest first where known. */
  postureMetrics(): Promise<PostureMetric[]>;
  /** Every event the queue (outbox, SQS) accepted so far, parsed as its consumer reads it. */
  queuedEvents(): ScoutEvent[];
  /** While on, the queue refuses every event for real (no event is kept). */
  refuseQueue(on: boolean): Promise<void>;
  /** While on, the relay (local) or SES (AWS) refuses every probe. */
  refuseSends(on: boolean): void;
  close(): Promise<void>;
}

/** A clock that stands still until told to move: every time in a case is exact. */
export class ManualClock implements Clock {
  constructor(private nowMs: number = Date.now()) {}
  now(): number {
    return this.nowMs;
  }
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

/** A per-case directory under the system's temporary folder. */
export function caseDirectory(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `scout-shell-${prefix}-`));
}

// One test PKI per process: making its keys takes a moment, and nothing in it changes.
let pki: Promise<TestPki> | undefined;

/**
 * CHECKED_TARGET's endpoint servers: a real SMTP server with STARTTLS that does not relay to
 * example.com (the open relay test's default recipient), and a port nothing listens on.
 */
export interface EndpointServers {
  readonly answering: string;
  readonly refusing: string;
  readonly caFile: string;
  close(): Promise<void>;
}

export async function startEndpointServers(dir: string): Promise<EndpointServers> {
  pki ??= makeTestPki();
  const { caPem, valid } = await pki;
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, caPem);
  const peer = await startSmtpPeer({ identity: valid, refuseRelayTo: "example.com" });
  return {
    answering: `smtp://127.0.0.1:${peer.port}`,
    refusing: `smtp://127.0.0.1:${await closedPort()}`,
    caFile,
    close: () => peer.close(),
  };
}

/** The part of the config both shells share; each adds what only it has. */
export function sharedConfig(
  servers: EndpointServers,
  webhook: { url: string; secretFile?: string },
  extras: {
    fetch?: { url: string; passwordFile: string };
    ownKeyFile?: string;
    postureResolver?: string;
  } = {},
) {
  const { fetch, ownKeyFile, postureResolver } = extras;
  const postureTargets =
    postureResolver === undefined
      ? []
      : [
          {
            id: POSTURE_TARGET,
            domain: POSTURE_DOMAIN,
            confirmAfter: POSTURE_CONFIRM_AFTER,
            posture: { fromDomain: POSTURE_DOMAIN },
          },
        ];
  const fetchTargets =
    fetch === undefined
      ? []
      : [
          {
            id: FETCH_TARGET,
            confirmAfter: 1,
            probe: {
              to: FETCH_MAILBOX,
              fetch: { ...fetch, user: FETCH_USER, pollSeconds: 1, waitSeconds: FETCH_WAIT_SECONDS },
            },
          },
        ];
  return {
    inbound: { domain: INBOUND_DOMAIN, returnAddress: RETURN_ADDRESS },
    outbound: { from: PROBE_FROM },
    roundTrip: { deadlineSeconds: DEADLINE_SECONDS, warningSeconds: 30, criticalSeconds: 120 },
    targets: [
      {
        id: CHECKED_TARGET,
        confirmAfter: CHECKED_CONFIRM_AFTER,
        endpoints: [
          { url: servers.answering, caFile: servers.caFile, openRelayTest: true },
          { url: servers.refusing, caFile: servers.caFile },
        ],
      },
      { id: PROBED_TARGET, confirmAfter: 1, probe: { to: PROBE_MAILBOX } },
      ...fetchTargets,
      ...(ownKeyFile === undefined
        ? []
        : [{ id: OWN_KEY_TARGET, confirmAfter: 1, probe: { to: OWN_KEY_MAILBOX, keyFile: ownKeyFile } }]),
      ...postureTargets,
    ],
    ...(postureResolver === undefined
      ? {}
      : {
          posture: {
            intervalSeconds: POSTURE_INTERVAL_SECONDS,
            resolver: postureResolver,
            timeoutMs: POSTURE_TIMEOUT_MS,
            retries: 0,
          },
        }),
    webhooks: { endpoints: [{ id: WEBHOOK_ENDPOINT_ID, ...webhook }] },
  };
}

/** The latest check result of each of a target's endpoints, by endpoint URL. */
export async function latestResultsOf(
  shell: ShellRuntime,
  targetId: string,
): Promise<Map<string, CheckResult>> {
  const latest = await shell.stores.checks.latestCheckResults();
  return new Map(
    latest
      .filter((entry) => entry.targetId === targetId)
      .map((entry) => [entry.result.endpoint, entry.result]),
  );
}
