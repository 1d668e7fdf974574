import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configSchema, type ScoutConfig } from "../../../../core/config/schema.ts";
import type { Status } from "../../../../core/model/status.ts";
import { postureCheckResult } from "../../../../core/posture/posture-check-result.ts";
import type { PostureReason } from "../../../../core/posture/posture-reasons.ts";
import type { PostureCheckName } from "../../../../core/posture/posture-result.ts";
import { SqliteStatusStore } from "../../../../local/adapters/sqlite-status-store.ts";
import { SqliteStore } from "../../../../local/adapters/sqlite-store.ts";
import { renderStatusBoard } from "../../../../local/cli/status-board.ts";
import { type Board, buildBoard } from "../../../../local/dashboard/board.ts";
import { renderMetrics } from "../../../../local/dashboard/metrics.ts";

/*
 * The posture checks of a target's domain on the board (`email-scout status`, /api/status) and
 * on /metrics: a row per check the store knows, whatever checks there are, tracked status first.
 */

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const MIN = 60_000;

function config(dir: string): ScoutConfig {
  return configSchema.parse({
    dataDir: dir,
    probeKeyFile: join(dir, "probe.key"),
    inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
    targets: [
      { id: "dns1", domain: "posture.test" },
      { id: "dns2", domain: "fresh.test", endpoints: [{ url: "smtp://mx.fresh.test" }] },
    ],
  });
}

function posture(check: PostureCheckName, status: Status, reason: PostureReason, message: string) {
  return postureCheckResult(
    {
      check,
      domain: "posture.test",
      status,
      reason,
      message,
      findings: status === "OK" ? [] : [{ status, reason, message }],
      facts: {},
      resolver: "127.0.0.1:53",
      startedAt: new Date(NOW - 5 * MIN).toISOString(),
      totalMs: 12,
    },
    NOW - 5 * MIN,
  );
}

describe("posture checks on the board and /metrics", () => {
  let dir: string;
  let store: SqliteStore;
  let statuses: SqliteStatusStore;
  let board: Board;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "scout-posture-board-"));
    store = await SqliteStore.open(join(dir, "scout.db"));
    statuses = new SqliteStatusStore(store.db);
    await store.saveCheckResult("dns1", posture("mx", "OK", "ok", "10 mx.posture.test"));
    await store.saveCheckResult("dns1", posture("spf", "WARNING", "spf-missing", "no v=spf1 record"));
    await store.saveCheckResult("dns1", posture("dmarc", "OK", "ok", "p=reject"));
    await statuses.replaceStatus(
      {
        targetId: "dns1",
        subject: "posture:spf",
        status: "WARNING",
        reason: "spf-missing",
        sinceMs: NOW - 65 * MIN,
        pendingCount: 0,
        updatedAtMs: NOW - 5 * MIN,
      },
      undefined,
    );
    board = await buildBoard({ config: config(dir), store, statuses }, NOW);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives a row per posture check in name order, tracked where tracked, with its domain and message", () => {
    const rows = board.targets.find((target) => target.id === "dns1")?.rows;
    expect(rows?.map((row) => [row.subject, row.kind, row.status, row.reason, row.source])).toEqual([
      ["posture:dmarc", "posture", "OK", "ok", "latest"],
      ["posture:mx", "posture", "OK", "ok", "latest"],
      ["posture:spf", "posture", "WARNING", "spf-missing", "tracked"],
    ]);
    expect(rows?.[2]).toMatchObject({
      domain: "posture.test",
      message: "no v=spf1 record",
      protocol: "dns",
      lastCheckAtMs: NOW - 5 * MIN,
      sinceMs: NOW - 65 * MIN,
    });
  });

  it("says when a domain's posture has not been checked yet, after the target's endpoints", () => {
    const rows = board.targets.find((target) => target.id === "dns2")?.rows;
    expect(rows?.map((row) => [row.subject, row.kind, row.status, row.reason])).toEqual([
      ["smtp://mx.fresh.test", "endpoint", "UNKNOWN", "no-check-yet"],
      ["posture", "posture", "UNKNOWN", "no-check-yet"],
    ]);
  });

  it("prints them on the terminal board, the message of a check that is not OK", () => {
    const text = renderStatusBoard(board, { colour: false });
    expect(text).toContain(
      "  WARNING  posture:spf          spf-missing  since 65 min ago checked 5 min ago    posture.test no v=spf1 record",
    );
    expect(text).toContain(
      "  OK       posture:mx           ok           not tracked yet  checked 5 min ago    posture.test\n",
    );
    expect(text).toContain(
      "  UNKNOWN  posture              no-check-yet not tracked yet  no check of fresh.test yet",
    );
  });

  it("gives each check's latest status on /metrics, and its tracked status under its subject", async () => {
    const { body } = await renderMetrics({ config: config(dir), store, statuses }, NOW);
    const families = parsePrometheusTextFormat(body);
    const samples = (name: string) => families.find((family) => family.name === name)?.metrics ?? [];
    expect(
      samples("email_scout_posture_status").map((sample) => [
        sample.labels?.check,
        sample.labels?.domain,
        sample.value,
      ]),
    ).toEqual([
      ["dmarc", "posture.test", "0"],
      ["mx", "posture.test", "0"],
      ["spf", "posture.test", "1"],
    ]);
    expect(samples("email_scout_status")).toContainEqual({
      labels: { target: "dns1", subject: "posture:spf" },
      value: "1",
    });
    // Posture checks have no connect or login phases: they stay out of the service checks' series.
    expect(samples("email_scout_check_duration_seconds").filter((s) => s.labels?.target === "dns1")).toEqual(
      [],
    );
  });
});
