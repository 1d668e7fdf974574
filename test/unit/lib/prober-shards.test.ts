import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { parseProberEvent } from "../../../lambdas/events/prober-event.ts";
import { loadStackConfig } from "../../../lib/config/deploy-config.ts";
import { ENDPOINTS_PER_SHARD, proberShardCount } from "../../../lib/config/prober-shards.ts";
import { synthStack, TWO_TARGETS } from "../../support/synth-stack.ts";

const scheduledEvent = JSON.parse(
  readFileSync(join(import.meta.dirname, "../../fixtures/aws/scheduled-event.json"), "utf8"),
) as Record<string, unknown>;

/** The two-target fixture with `extra` lines appended to its aws block (the file's last block). */
function fixtureWith(extra: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "scout-shards-")), "config.yaml");
  writeFileSync(file, `${readFileSync(TWO_TARGETS, "utf8").trimEnd()}\n${extra}\n`);
  return file;
}

interface RuleTarget {
  Arn: unknown;
  Input?: string;
  InputTransformer?: { InputPathsMap: Record<string, string>; InputTemplate: string };
}

function ruleTargets(template: Template): RuleTarget[] {
  return Object.values(template.findResources("AWS::Events::Rule")).flatMap(
    (rule) => rule.Properties.Targets as RuleTarget[],
  );
}

/** What EventBridge hands the function: the input template with the scheduled event's fields put in. */
function delivered(target: RuleTarget, event: Record<string, unknown>): unknown {
  if (target.InputTransformer === undefined) return event;
  const { InputPathsMap, InputTemplate } = target.InputTransformer;
  const text = InputTemplate.replace(/<([A-Za-z0-9_]+)>/g, (_whole, name: string) => {
    const path = InputPathsMap[name] ?? "";
    return JSON.stringify(event[path.replace(/^\$\./, "")]);
  });
  return JSON.parse(text);
}

/** Every IAM statement of the template, with its actions as a list. */
function statements(template: Template): { Action: string[] }[] {
  return Object.values(template.findResources("AWS::IAM::Policy")).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).map((statement) => ({
      ...statement,
      Action: [statement.Action].flat(),
    })),
  );
}

describe("how many prober shards", () => {
  const targets = (endpoints: number) => [
    { id: "t", endpoints: Array.from({ length: endpoints }, () => ({ url: "smtp://mx.example.com" })) },
  ];

  it(`runs one shard per ${ENDPOINTS_PER_SHARD} endpoints unless aws.proberShards says`, () => {
    const count = (endpoints: number, aws?: { proberShards?: number }) =>
      proberShardCount({ targets: targets(endpoints), aws } as Parameters<typeof proberShardCount>[0]);
    expect([0, 1, 1000, 1001, 2500, 10_000].map((endpoints) => count(endpoints))).toEqual([
      1, 1, 1, 2, 3, 10,
    ]);
    expect(count(10_000, { proberShards: 4 })).toBe(4);
    expect(count(3, { proberShards: 2 })).toBe(2);
  });

  it("refuses a shard count EventBridge and the schema do not allow, naming the key", () => {
    expect(() => loadStackConfig(fixtureWith("  proberShards: 0"))).toThrow(/aws\.proberShards/);
    expect(() => loadStackConfig(fixtureWith("  proberShards: 101"))).toThrow(/aws\.proberShards/);
  });
});

describe("the prober's schedule, unsharded (the fixture's 4 endpoints)", () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = synthStack());
  });

  it("is one rule whose one target sends EventBridge's own Scheduled Event: one run of every target", () => {
    const [target, ...more] = ruleTargets(template);
    expect(more).toEqual([]);
    expect(target?.Input).toBeUndefined();
    expect(target?.InputTransformer).toBeUndefined();
    expect(parseProberEvent(delivered(target as RuleTarget, scheduledEvent)).shard).toBeUndefined();
    template.hasOutput("ProberShards", { Value: "1" });
  });
});

describe("the prober's schedule with aws.proberShards: 7", () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = synthStack(fixtureWith("  proberShards: 7")));
  });

  it("starts each shard from its own rule target, five to a rule, all at the schedule's rate", () => {
    const rules = Object.values(template.findResources("AWS::Events::Rule"));
    expect(rules.map((rule) => [rule.Properties.ScheduleExpression, rule.Properties.Targets.length])).toEqual(
      [
        ["rate(2 minutes)", 5],
        ["rate(2 minutes)", 2],
      ],
    );
    const events = ruleTargets(template).map((target) => parseProberEvent(delivered(target, scheduledEvent)));
    expect(events.map((event) => event.shard)).toEqual(
      Array.from({ length: 7 }, (_, index) => ({ index, count: 7 })),
    );
    // Every shard of one tick carries that tick's time and event id.
    for (const event of events) {
      expect(event).toMatchObject({ scheduledAt: scheduledEvent.time, eventId: scheduledEvent.id });
    }
    for (const target of ruleTargets(template)) {
      expect(target.Arn).toEqual({ "Fn::GetAtt": [expect.stringMatching(/^ProberFunction/), "Arn"] });
    }
    template.hasOutput("ProberShards", { Value: "7" });
  });

  it("lets EventBridge invoke the prober from these rules only, and gives no role lambda:InvokeFunction", () => {
    const fromEvents = Object.values(template.findResources("AWS::Lambda::Permission")).filter(
      (permission) => permission.Properties.Principal === "events.amazonaws.com",
    );
    expect(fromEvents.map((permission) => permission.Properties)).toEqual([
      expect.objectContaining({
        Action: "lambda:InvokeFunction",
        FunctionName: { "Fn::GetAtt": [expect.stringMatching(/^ProberFunction/), "Arn"] },
        SourceArn: { "Fn::GetAtt": [expect.stringMatching(/^ProberSchedule[A-F0-9]{8}$/), "Arn"] },
      }),
      expect.objectContaining({
        SourceArn: { "Fn::GetAtt": [expect.stringMatching(/^ProberSchedule2[A-F0-9]{8}$/), "Arn"] },
      }),
    ]);
    expect(
      statements(template).filter((statement) => statement.Action.some((a) => a.startsWith("lambda:"))),
    ).toEqual([]);
  });
});
