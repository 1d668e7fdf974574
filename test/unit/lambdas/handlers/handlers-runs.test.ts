import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SendRawEmailCommand } from "@aws-sdk/client-ses";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { createProberHandler } from "../../../../lambdas/handlers/prober.ts";
import { captureEmf, metricPoints } from "../../../support/emf-capture.ts";
import {
  DEADLINE_S,
  deployment,
  KEY_ARN,
  probeIdOf,
  queuedEvents,
  root,
  scheduledEvent,
  sentProbes,
  ses,
  sqs,
  storeReturn,
  useHandlerStandIns,
} from "../../../support/handlers-fixture.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";

/*
 * The prober and correlator Lambdas on the stand-ins (handlers-fixture.ts): later runs, limits,
 * and partial failures that must not abort a run.
 */
useHandlerStandIns();

describe("prober and correlator runs on the stand-ins", () => {
  it("sweeps a probe past its deadline to lost on a later run", async () => {
    let nowMs = Date.now();
    const { prober, probes } = await deployment({ clock: { now: () => nowMs } });
    const first = await captureEmf(() => prober(scheduledEvent));
    expect(first.result).toMatchObject({ probesSent: 1, lost: 0 });
    const probeId = probeIdOf(sentProbes()[0]?.source ?? "");

    nowMs += DEADLINE_S * 1000 + 1;
    const second = await captureEmf(() => prober(scheduledEvent));
    expect(second.result).toMatchObject({ probesSent: 1, lost: 1, errors: [] });
    expect(await probes.get(probeId)).toMatchObject({ state: "lost", updatedAtMs: nowMs });
    expect(queuedEvents()).toContainEqual(["roundtrip.completed", "mx1", "lost"]);
    expect(metricPoints(second.lines).map((p) => [p.name, p.dimensions, p.value])).toContainEqual([
      "ProbeLost",
      { Target: "mx1" },
      1,
    ]);
  });

  it("rejects a message over inbound.maxBytes without reading it, and skips objects outside returns/", async () => {
    const { correlator, probes } = await deployment();
    const big = await storeReturn("returns/huge message", Buffer.alloc(1024 * 1024 + 1, 0x61));
    const elsewhere = await storeReturn("other/x", Buffer.from("Subject: x\r\n\r\n"));
    const run = await captureEmf(() => correlator({ Records: [...big.Records, ...elsewhere.Records] }));
    expect(run.result).toEqual({ records: 2, rejected: 1, skipped: 1 });
    expect(await probes.rejectionCounts(Date.now() - 60_000)).toEqual({ "malformed-mail": 1 });
  });

  it("keeps going when SES refuses a probe: the probe is send-failed and the run still sweeps", async () => {
    const { prober, probes } = await deployment();
    ses.reset();
    ses
      .on(SendRawEmailCommand)
      .rejects(Object.assign(new Error("Email address is not verified."), { name: "MessageRejected" }));
    const run = await captureEmf(() => prober(scheduledEvent));
    expect(run.result).toEqual({
      checks: 1,
      notOk: 1,
      postureChecks: 0,
      probesSent: 0,
      sendFailed: 1,
      delivered: 0,
      lost: 0,
      reannounced: 0,
      events: 2,
      errors: [],
    });
    expect(queuedEvents()).toContainEqual(["roundtrip.completed", "mx1", "send-failed"]);
    const probeId = probeIdOf(sentProbes()[0]?.source ?? "");
    expect(await probes.get(probeId)).toMatchObject({
      state: "send-failed",
      error: "MessageRejected: Email address is not verified.",
    });
    expect(metricPoints(run.lines).map((p) => [p.name, p.value])).toContainEqual(["ProbeSendFailed", 1]);
  });

  it("reports a queue that refuses events in the summary and still completes the run", async () => {
    const { prober, probes } = await deployment();
    sqs.reset();
    sqs
      .on(SendMessageBatchCommand)
      .rejects(Object.assign(new Error("Access to the resource is denied."), { name: "AccessDenied" }));
    const run = await captureEmf(() => prober(scheduledEvent));
    expect(run.result).toMatchObject({
      checks: 1,
      probesSent: 1,
      errors: [{ step: "events", error: "Access to the resource is denied." }],
    });
    const probeId = probeIdOf(sentProbes()[0]?.source ?? "");
    expect(await probes.get(probeId)).toMatchObject({ state: "sent" });
  });

  it("refuses an event that is not a schedule, and a broken config, each with a clear message", async () => {
    const { prober, dir } = await deployment();
    await expect(prober({ Records: [] })).rejects.toThrow(
      /^not an EventBridge Scheduled Event:\n(.*\n)* {2}- detail-type: must be "Scheduled Event"/,
    );
    writeFileSync(join(dir, "scout-config.json"), JSON.stringify({ inbound: {}, targets: [] }));
    const broken = createProberHandler({
      env: {
        PROBES_TABLE: "p-table",
        RESULTS_TABLE: "r-table",
        PROBE_KEY_SECRET_ARN: KEY_ARN,
        SCOUT_CONFIG_FILE: join(dir, "scout-config.json"),
      },
      log: new RecordingLogger(),
    });
    await expect(broken(scheduledEvent)).rejects.toThrow(
      /scout-config\.json: invalid configuration\n {2}- configVersion: is missing: not the config the Email Scout CDK app writes/,
    );
    const unset = createProberHandler({
      env: { SCOUT_CONFIG_FILE: join(root, "case-1", "scout-config.json") },
      log: new RecordingLogger(),
    });
    await expect(unset(scheduledEvent)).rejects.toThrow("environment variable PROBES_TABLE is not set");
  });
});
