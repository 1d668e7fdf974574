import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeS3EventKey } from "../../../../lambdas/aws/s3-return-source.ts";
import { parseReceiptRuleSetRequest } from "../../../../lambdas/events/custom-resource-event.ts";
import { EventShapeError } from "../../../../lambdas/events/event-shape-error.ts";
import { parseProberEvent } from "../../../../lambdas/events/prober-event.ts";
import { parseS3Event } from "../../../../lambdas/events/s3-event.ts";
import { parseScheduledEvent } from "../../../../lambdas/events/scheduled-event.ts";
import { encodeS3EventKey } from "../../../support/aws-standins.ts";

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../fixtures/aws/${name}`, import.meta.url), "utf8"));

/** What `parse` throws (undefined when it accepts), for tests that look into the error. */
function thrownBy(parse: () => unknown): unknown {
  try {
    parse();
  } catch (caught) {
    return caught;
  }
  return undefined;
}

describe("the EventBridge Scheduled Event schema", () => {
  it("accepts the recorded event", () => {
    expect(parseScheduledEvent(fixture("scheduled-event.json"))).toMatchObject({
      "detail-type": "Scheduled Event",
      time: "2026-06-01T12:00:00Z",
    });
  });

  it("accepts fields AWS may add later", () => {
    expect(() => parseScheduledEvent({ ...fixture("scheduled-event.json"), "new-field": 1 })).not.toThrow();
  });

  it.each([
    [
      "a custom input",
      { run: "now" },
      'detail-type: must be "Scheduled Event": the prober runs from an EventBridge schedule rule (with no input, or a shard\'s)',
    ],
    [
      "a bad time",
      { ...fixture("scheduled-event.json"), time: "yesterday" },
      "time: must be an ISO 8601 UTC time",
    ],
    [
      "a bad account",
      { ...fixture("scheduled-event.json"), account: "12" },
      "account: must be a 12-digit account id",
    ],
  ])("rejects %s, naming the field", (_name, event, problem) => {
    const error = thrownBy(() => parseScheduledEvent(event));
    expect(error).toBeInstanceOf(EventShapeError);
    expect((error as EventShapeError).message).toMatch(/^not an EventBridge Scheduled Event:\n/);
    expect((error as EventShapeError).problems).toContain(problem);
  });
});

describe("the prober's event: a Scheduled Event, or one shard's", () => {
  const shardEvent = { shard: 1, shards: 3, time: "2026-06-01T12:00:00Z", id: "5f1e-tick" };

  it("runs every target on a plain Scheduled Event, and the named shard on a shard event", () => {
    expect(parseProberEvent(fixture("scheduled-event.json"))).toEqual({
      scheduledAt: "2026-06-01T12:00:00Z",
      eventId: fixture("scheduled-event.json").id,
    });
    expect(parseProberEvent({ ...shardEvent, extra: true })).toEqual({
      scheduledAt: "2026-06-01T12:00:00Z",
      eventId: "5f1e-tick",
      shard: { index: 1, count: 3 },
    });
  });

  it.each([
    ["a shard past the count", { ...shardEvent, shard: 3 }, "shard: must be below shards (3)"],
    ["a fractional shard", { ...shardEvent, shard: 0.5 }, "shard: must be a whole number of at least 0"],
    ["no shard count", { ...shardEvent, shards: undefined }, "shards: is required"],
    ["no time", { ...shardEvent, time: "soon" }, "time: must be an ISO 8601 UTC time"],
  ])("rejects %s, naming the field", (_name, event, problem) => {
    const error = thrownBy(() => parseProberEvent(event));
    expect(error).toBeInstanceOf(EventShapeError);
    expect((error as EventShapeError).message).toMatch(
      /^not a prober shard event \(\{shard, shards, time, id\}\):\n/,
    );
    expect((error as EventShapeError).problems).toEqual([problem]);
  });
});

describe("the S3 event notification schema", () => {
  it("accepts the recorded ObjectCreated:Put and decodes its key as S3 encodes it", () => {
    const [record] = parseS3Event(fixture("s3-object-created.json")).Records;
    expect(record?.eventName).toBe("ObjectCreated:Put");
    expect(record?.s3.object.key).toBe("returns/abc%2Bdef+x");
    expect(decodeS3EventKey(record?.s3.object.key ?? "")).toBe("returns/abc+def x");
  });

  it("round-trips awkward keys through S3's encoding", () => {
    for (const key of ["returns/abc+def x", "returns/ü é/%41", "returns/a&b=c?d#e"]) {
      expect(decodeS3EventKey(encodeS3EventKey(key))).toBe(key);
    }
  });

  it.each([
    ["no records", { Records: [] }, "Records: must hold at least 1 item(s)"],
    ["an SQS message", { Records: [{ eventSource: "aws:sqs", body: "{}" }] }, "Records[0].eventSource"],
    [
      "a record without a key",
      (() => {
        const event = structuredClone(fixture("s3-object-created.json")) as {
          Records: { s3: { object: Record<string, unknown> } }[];
        };
        delete event.Records[0]?.s3.object.key;
        return event;
      })(),
      "Records[0].s3.object.key: is required",
    ],
  ])("rejects %s with a clear error", (_name, event, problem) => {
    const error = thrownBy(() => parseS3Event(event));
    expect(error).toBeInstanceOf(EventShapeError);
    expect((error as Error).message).toMatch(/^not an S3 event notification \(Records\[\]\.s3\):\n/);
    expect((error as EventShapeError).problems.some((p) => p.startsWith(problem))).toBe(true);
  });
});

describe("the custom resource request schema (Custom::SesActiveReceiptRuleSet)", () => {
  it("accepts the recorded Create request", () => {
    expect(parseReceiptRuleSetRequest(fixture("custom-resource-create.json"))).toMatchObject({
      RequestType: "Create",
      ResourceProperties: { RuleSetName: "EmailScout-returns", Region: "eu-west-1" },
    });
  });

  it("names what is missing in a request for another resource", () => {
    const other = { ...fixture("custom-resource-create.json"), ResourceProperties: { ServiceToken: "arn" } };
    const error = thrownBy(() => parseReceiptRuleSetRequest(other));
    expect(error).toBeInstanceOf(EventShapeError);
    expect((error as EventShapeError).problems).toEqual([
      "ResourceProperties.RuleSetName: is required",
      "ResourceProperties.Domain: is required",
      "ResourceProperties.Region: is required",
    ]);
  });
});
