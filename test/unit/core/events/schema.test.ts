import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { WEBHOOK_EVENT_TYPES } from "../../../../core/config/config-rules.ts";
import { checkCompletedEvent } from "../../../../core/events/check-completed.ts";
import { roundTripCompletedEvent } from "../../../../core/events/roundtrip-completed.ts";
import { statusChangedEvent } from "../../../../core/events/status-changed.ts";
import { webhookTestEvent } from "../../../../core/events/webhook-test.ts";
import { checkResult, probeRecord, T0 } from "../../../support/event-fixtures.ts";
import { EVENT_SCHEMA, schemaErrors } from "../../../support/event-schema.ts";

const DOCS = readFileSync(new URL("../../../../docs/events.md", import.meta.url), "utf8");

/** Every ```json block of docs/events.md, parsed. */
function docExamples(): Record<string, unknown>[] {
  return [...DOCS.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => JSON.parse(match[1] ?? ""));
}

const envelope = { targetId: "mx1", customer: "acme", now: T0 };
const valid = {
  check: checkCompletedEvent({ ...envelope, result: checkResult() }),
  roundTrip: roundTripCompletedEvent({
    ...envelope,
    probe: probeRecord(),
    thresholds: { warningMs: 30_000, criticalMs: 120_000 },
  }),
  status: statusChangedEvent({
    customer: "acme",
    now: T0,
    transition: {
      targetId: "mx1",
      subject: "roundtrip",
      from: "OK",
      to: "CRITICAL",
      reason: "lost",
      previousReason: "ok",
      sinceMs: T0,
      confirmations: 2,
    },
  }),
  test: webhookTestEvent({ now: T0, customer: "acme" }),
};

const DELETE = Symbol("delete");

/** A deep copy with one field set (or deleted) at `path`, so each case breaks exactly one rule. */
function altered(event: unknown, path: string, value: unknown): unknown {
  const copy = structuredClone(event);
  const keys = path.split(".");
  const last = keys.pop() ?? "";
  let parent = copy as Record<string, unknown>;
  for (const key of keys) parent = parent[key] as Record<string, unknown>;
  if (value === DELETE) delete parent[last];
  else parent[last] = value;
  return copy;
}

describe("schemas/events.v1.json", () => {
  it("is draft 2020-12 and lists the same event types as the configuration", () => {
    const schema = EVENT_SCHEMA as { $schema: string; properties: { type: { enum: string[] } } };
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.properties.type.enum).toEqual([...WEBHOOK_EVENT_TYPES]);
  });

  it("accepts the builders' events", () => {
    for (const event of Object.values(valid)) expect(schemaErrors(event)).toEqual([]);
  });

  it("accepts a delivered probe's receiver verdicts, and refuses a verdict outside ham|spam|unknown", () => {
    const withVerdicts = roundTripCompletedEvent({
      ...envelope,
      probe: probeRecord({
        verdicts: {
          authservId: "mx1.example.com",
          dmarc: { result: "fail", reason: "p=reject", domain: "example.net" },
          arc: { result: "pass" },
          spam: [{ filter: "microsoft", verdict: "spam", scl: 5, detail: "SFV:SPM" }],
          ignoredAuthResults: 1,
          problems: ['dkim: unknown result "maybe"'],
        },
      }),
      thresholds: { warningMs: 30_000, criticalMs: 120_000 },
    });
    expect(withVerdicts.data).toMatchObject({ status: "WARNING", reason: "spam-verdict" });
    expect(schemaErrors(withVerdicts)).toEqual([]);
    expect(schemaErrors(altered(withVerdicts, "data.verdicts.spam.0.verdict", "maybe")).join("\n")).toMatch(
      /verdicts\/spam\/0\/verdict must be equal to one of the allowed values/,
    );
  });

  it("accepts fields it does not know, in the envelope and in data", () => {
    expect(schemaErrors(altered(valid.check, "extra", 1))).toEqual([]);
    expect(schemaErrors(altered(valid.check, "data.newFact", "x"))).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ["a missing id", altered(valid.check, "id", DELETE), "/ must have required property 'id'"],
    [
      "an id with a letter Crockford leaves out",
      altered(valid.check, "id", "evt_01KT134RCW55YCKNG5F4G9BC8U"),
      "/id must match pattern",
    ],
    ["a lower-case id", altered(valid.check, "id", valid.check.id.toLowerCase()), "/id must match pattern"],
    [
      "an unknown type",
      altered(valid.check, "type", "check.started"),
      "/type must be equal to one of the allowed values",
    ],
    ["version 2", altered(valid.check, "version", 2), "/version must be equal to constant"],
    ["a time without ms", altered(valid.check, "time", "2026-06-01T08:00:00Z"), "/time must match pattern"],
    [
      "a time with an offset",
      altered(valid.check, "time", "2026-06-01T10:00:00.000+02:00"),
      "/time must match pattern",
    ],
    [
      "an impossible date",
      altered(valid.check, "time", "2026-02-30T08:00:00.000Z"),
      '/time must match format "date-time"',
    ],
    [
      "an empty customer",
      altered(valid.check, "customer", ""),
      "/customer must NOT have fewer than 1 characters",
    ],
    ["an empty target", altered(valid.check, "target", ""), "/target must match pattern"],
    [
      "a test event naming a target",
      altered(valid.test, "target", "mx1"),
      "/target must be equal to constant",
    ],
    ["data that is not an object", altered(valid.check, "data", "ok"), "/data must be object"],
    [
      "a check without its status",
      altered(valid.check, "data.status", DELETE),
      "/data must have required property 'status'",
    ],
    [
      "a check with an unknown status",
      altered(valid.check, "data.status", "FINE"),
      "/data/status must be equal to one of the allowed values",
    ],
    [
      "a check with a port out of range",
      altered(valid.check, "data.port", 70_000),
      "/data/port must be <= 65535",
    ],
    [
      "a check with a negative timing",
      altered(valid.check, "data.timings.tls", -1),
      "/data/timings/tls must be >= 0",
    ],
    [
      "TLS facts without trusted",
      altered(valid.check, "data.tls.trusted", DELETE),
      "/data/tls must have required property 'trusted'",
    ],
    [
      "a check's data under another type",
      altered(valid.check, "type", "status.changed"),
      "/data must have required property 'subject'",
    ],
    [
      "a returned probe without its RTT",
      altered(valid.roundTrip, "data.rttMs", DELETE),
      "/data must have required property 'rttMs'",
    ],
    [
      "an outcome that is not final",
      altered(valid.roundTrip, "data.outcome", "sent"),
      "/data/outcome must be equal to one of the allowed values",
    ],
    [
      "a send failure without its error",
      altered(valid.roundTrip, "data.outcome", "send-failed"),
      "/data must have required property 'error'",
    ],
    [
      "a change without since",
      altered(valid.status, "data.since", DELETE),
      "/data must have required property 'since'",
    ],
    [
      "a change to OK not marked recovered",
      altered(valid.status, "data.to", "OK"),
      "/data/recovered must be equal to constant",
    ],
    [
      "a failure marked recovered",
      altered(valid.status, "data.recovered", true),
      "/data/recovered must be equal to constant",
    ],
    [
      "a test event without its message",
      altered(valid.test, "data.message", DELETE),
      "/data must have required property 'message'",
    ],
  ])("rejects %s", (_case, event, expected) => {
    expect(schemaErrors(event).join("\n")).toContain(expected);
  });
});

describe("docs/events.md", () => {
  const examples = docExamples();

  it("has an example of every event type", () => {
    expect(new Set(examples.map((e) => e.type))).toEqual(new Set(WEBHOOK_EVENT_TYPES));
  });

  it.each(examples.map((example) => [`${example.type} ${example.id}`, example]))(
    "example %s validates against the schema",
    (_name, example) => {
      expect(schemaErrors(example)).toEqual([]);
    },
  );

  it("points to the signature documentation", () => {
    expect(DOCS).toMatch(/^## Verifying a signature\n\n[^\n]*docs\/webhooks\.md/m);
  });
});
