import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { emailReturnReply } from "../../../support/email-return-reply.ts";
import { captureEmf, metricPoints } from "../../../support/emf-capture.ts";
import {
  deployment,
  dynamo,
  key,
  probeIdOf,
  queuedEvents,
  RETURN_TO,
  refusedPort,
  runEmailReturn,
  scheduledEvent,
  sentProbes,
  sqs,
  storeReturn,
  useHandlerStandIns,
} from "../../../support/handlers-fixture.ts";

/*
 * The prober and correlator Lambdas on the stand-ins (handlers-fixture.ts): a probe answered by
 * the real email_return becomes a measured round trip; duplicates, forgeries, status writes.
 */
useHandlerStandIns();

describe("prober and correlator on the stand-ins", () => {
  it("sends a probe that email_return answers; the stored return becomes a measured round trip", async () => {
    const { dir, prober, correlator, probes, checks } = await deployment();
    const proberRun = await captureEmf(() => prober(scheduledEvent));
    expect(proberRun.result).toEqual({
      checks: 1,
      notOk: 1,
      postureChecks: 0,
      probesSent: 1,
      sendFailed: 0,
      delivered: 0,
      lost: 0,
      reannounced: 0,
      events: 1,
      errors: [],
    });
    expect(queuedEvents()).toEqual([["check.completed", "mx1", "CRITICAL"]]);
    // The service check's result is stored whatever it found.
    expect(await checks.latestCheckResults()).toEqual([
      {
        targetId: "mx1",
        result: expect.objectContaining({ status: "CRITICAL", reason: "refused", port: refusedPort }),
      },
    ]);
    expect(metricPoints(proberRun.lines).map((p) => [p.name, p.dimensions, p.value])).toEqual(
      expect.arrayContaining([
        ["CheckFailed", { Target: "mx1", Protocol: "smtp" }, 1],
        ["ProbeSendFailed", { Target: "mx1" }, 0],
        ["ProbeLost", { Target: "mx1" }, 0],
      ]),
    );

    const [sent] = sentProbes();
    const probeId = probeIdOf(sent?.source ?? "");
    expect(await probes.get(probeId)).toMatchObject({ state: "sent", targetId: "mx1" });
    expect(sent?.raw.toString()).toMatch(/^From: Email Scout <scout@scout-returns\.example\.com>\r$/m);

    const reply = await runEmailReturn(dir, sent?.raw ?? Buffer.alloc(0), sent?.source ?? "");
    // "+" and a space: real S3 writes them into the notification as %2B and +.
    const event = await storeReturn(`returns/${probeId}+reply 1`, reply);
    expect(event.Records[0]?.s3.object.key).toBe(`returns/${probeId}%2Breply+1`);

    const correlatorRun = await captureEmf(() => correlator(event));
    expect(correlatorRun.result).toEqual({ records: 1, returned: 1, events: 1 });
    expect(queuedEvents().at(-1)).toEqual(["roundtrip.completed", "mx1", "returned"]);
    const returned = await probes.get(probeId);
    expect(returned).toMatchObject({ state: "returned" });
    const eventTime = Date.parse((event.Records[0] as unknown as { eventTime: string }).eventTime);
    expect(returned?.returnedAtMs).toBe(eventTime);
    expect(returned?.rttMs).toBe(eventTime - (returned?.sentAtMs ?? 0));
    expect(returned?.rttMs).toBeGreaterThanOrEqual(0);
    expect(metricPoints(correlatorRun.lines).map((p) => [p.name, p.dimensions, p.value])).toEqual([
      ["RoundTripTime", { Target: "mx1" }, returned?.rttMs],
      ["ProbeReturned", { Target: "mx1" }, 1],
    ]);
  });

  it("records one result when S3 delivers the same object twice", async () => {
    const { correlator, prober, probes } = await deployment();
    await captureEmf(() => prober(scheduledEvent));
    const [sent] = sentProbes();
    const probeId = probeIdOf(sent?.source ?? "");
    const reply = emailReturnReply(sent?.raw ?? Buffer.alloc(0), {
      key,
      returnTo: RETURN_TO,
      nowMs: Date.now(),
      uniqueId: "dup",
    });
    const event = await storeReturn(`returns/${probeId}-dup`, reply);
    const first = await captureEmf(() => correlator(event));
    const after = await probes.get(probeId);
    const second = await captureEmf(() => correlator(event));
    expect(first.result).toEqual({ records: 1, returned: 1, events: 1 });
    // The duplicate makes no second measurement, metric or event.
    expect(second.result).toEqual({ records: 1, duplicate: 1 });
    expect(await probes.get(probeId)).toEqual(after);
    expect(metricPoints(second.lines)).toEqual([]);
  });

  it("counts a forged return as rejected and changes nothing", async () => {
    const { correlator, prober, probes, log } = await deployment();
    await captureEmf(() => prober(scheduledEvent));
    const [sent] = sentProbes();
    const probeId = probeIdOf(sent?.source ?? "");
    const genuine = emailReturnReply(sent?.raw ?? Buffer.alloc(0), {
      key,
      returnTo: RETURN_TO,
      nowMs: Date.now(),
      uniqueId: "forged",
    }).toString("latin1");
    // The token's last character changed: its HMAC no longer matches. A and E both leave the MAC's
    // two unused low bits at zero, so the field still decodes and the token is not merely malformed.
    const forged = genuine.replace(/^(X-Scout-Probe: \S*)(\S)\r$/m, (_line, head: string, last: string) => {
      return `${head}${last === "A" ? "E" : "A"}\r`;
    });
    expect(forged).not.toBe(genuine);
    const before = await probes.get(probeId);
    const event = await storeReturn(`returns/${probeId}-forged`, Buffer.from(forged, "latin1"));
    const run = await captureEmf(() => correlator(event));
    expect(run.result).toEqual({ records: 1, rejected: 1 });
    expect(await probes.get(probeId)).toEqual(before);
    expect(await probes.rejectionCounts(Date.now() - 60_000)).toEqual({ "token-bad-signature": 1 });
    expect(metricPoints(run.lines).map((p) => [p.name, p.dimensions, p.value])).toEqual([
      ["ReturnRejected", { Reason: "token-bad-signature" }, 1],
    ]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "return rejected",
        fields: expect.objectContaining({ reason: "token-bad-signature" }),
      }),
    );
  });

  it("reads the statuses with one Query a run, writes check results in batches, and a status only when it changes", async () => {
    const { prober, checks } = await deployment();
    const calls: { command: string; pk: unknown }[] = [];
    dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        // Plain or marshalled ({ S: ... }): the document client converts at the same step.
        const text = (value: unknown) => (value as { S?: string } | undefined)?.S ?? value;
        const input = args.input as {
          Key?: { pk?: unknown };
          Item?: { pk?: unknown };
          ExpressionAttributeValues?: Record<string, unknown>;
        };
        const pk = text(input.Key?.pk ?? input.Item?.pk ?? input.ExpressionAttributeValues?.[":pk"]);
        calls.push({ command: String(context.commandName).replace(/Command$/, ""), pk });
        return next(args);
      },
      { step: "initialize", name: "countProberCalls" },
    );
    try {
      // The endpoint refuses every run: pending (1 of 2), then confirmed CRITICAL, then stable.
      // The confirmed change is written with its unannounced event, struck once it is queued.
      const expected = [["Query", "PutItem"], ["Query", "PutItem", "PutItem"], ["Query"]];
      const runs = [];
      for (let run = 0; run < 3; run++) {
        calls.length = 0;
        runs.push((await captureEmf(() => prober(scheduledEvent))).result);
        const statusCalls = calls.filter((call) => call.pk === "status").map((call) => call.command);
        expect(statusCalls, `run ${run + 1}`).toEqual(expected[run]);
        expect(
          calls.filter((call) => call.command === "BatchWriteItem"),
          `run ${run + 1}`,
        ).toHaveLength(1);
      }
      expect(runs.map((run) => (run as { errors: unknown[] }).errors)).toEqual([[], [], []]);
      // One confirmed change over the three runs (OK -> CRITICAL on the second).
      expect(
        queuedEvents()
          .filter(([type]) => type === "status.changed")
          .map(([type, target]) => [type, target]),
      ).toEqual([["status.changed", "mx1"]]);
      expect(await checks.latestCheckResults()).toEqual([
        { targetId: "mx1", result: expect.objectContaining({ status: "CRITICAL" }) },
      ]);
      expect(await checks.checkHistory("mx1", `smtp://127.0.0.1:${refusedPort}`, 0, 10)).toHaveLength(3);
    } finally {
      dynamo.client.middlewareStack.remove("countProberCalls");
    }
  });

  it("queues a status.changed the queue refused with the next run, under the same id", async () => {
    const { prober } = await deployment();
    const statusChanges = () =>
      sqs.commandCalls(SendMessageBatchCommand).flatMap((call) =>
        (call.args[0].input.Entries ?? [])
          .map((entry) => JSON.parse(entry.MessageBody ?? "{}") as { id: string; type: string })
          .filter((event) => event.type === "status.changed")
          .map((event) => event.id),
      );
    // Run 1: the first refusal (1 of 2). Run 2 confirms CRITICAL, and the queue is down.
    await captureEmf(() => prober(scheduledEvent));
    sqs.on(SendMessageBatchCommand).rejects(new Error("SQS is unavailable"));
    const refused = (await captureEmf(() => prober(scheduledEvent))).result as { errors: { step: string }[] };
    expect(refused.errors.map((error) => error.step)).toEqual(["events"]);
    const [lost, ...none] = statusChanges();
    expect(none).toEqual([]);
    // Run 3: the queue is back; the change comes with it, and only once more.
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });
    await captureEmf(() => prober(scheduledEvent));
    await captureEmf(() => prober(scheduledEvent));
    expect(statusChanges()).toEqual([lost, lost]);
  });
});
