import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CfnOutput, Stack } from "aws-cdk-lib";
import { Annotations, Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { type AlarmRule, checkCycles, firstAlarmingPeriod } from "../../support/alarm-evaluation.ts";
import { synthStack } from "../../support/synth-stack.ts";

const EXAMPLE = join(import.meta.dirname, "../../../config/aws-example.yaml");

/** CloudFormation quotas: resources per stack, and a template body read from S3. */
const MAX_RESOURCES = 500;
const MAX_TEMPLATE_BYTES = 1_000_000;
/** CloudWatch: widgets a dashboard, metrics a widget, metrics a dashboard ("CloudWatch service quotas"). */
const MAX_WIDGETS = 500;
const MAX_METRICS_PER_WIDGET = 500;
const MAX_METRICS_PER_DASHBOARD = 2500;
/** CloudWatch alarm descriptions (AWS::CloudWatch::Alarm AlarmDescription). */
const MAX_DESCRIPTION = 1024;

/**
 * config/aws-example.yaml grown to `count` targets: copies of its two targets in turn (four
 * endpoints on three protocols and a probe; one SMTPS endpoint), or of the first only with
 * `allFull`; every tenth target (a full one) has a lower critical probe time.
 */
function exampleGrownTo(count: number, aws: Record<string, unknown> = {}, allFull = false): string {
  const example = parse(readFileSync(EXAMPLE, "utf8"));
  const [full, single] = example.targets;
  example.targets = Array.from({ length: count }, (_, index) => {
    const target = structuredClone(index % 2 === 0 || allFull ? full : single);
    target.id = `target-${index}.example.com`;
    if (target.probe && index % 10 === 0) target.probe.criticalSeconds = 120;
    return target;
  });
  Object.assign(example.aws, aws);
  const file = join(mkdtempSync(join(tmpdir(), "scout-fleet-")), "config.yaml");
  writeFileSync(file, stringify(example));
  return file;
}

interface Measured {
  resources: number;
  templateBytes: number;
  alarms: Record<string, Record<string, unknown>>;
  dashboard: { widgets: { properties: { metrics?: unknown[] } }[] };
  dashboardBytes: number;
}

/** The template's numbers, with the region in place of its tokens as CloudFormation would put it. */
function measure(template: Template): Measured {
  const json = template.toJSON();
  const resolve = (value: unknown): string =>
    typeof value === "string"
      ? value
      : ((value as { "Fn::Join": [string, unknown[]] })["Fn::Join"][1]
          .map((part) => (typeof part === "string" ? part : "ap-southeast-2"))
          .join("") as string);
  const [dashboard] = Object.values(template.findResources("AWS::CloudWatch::Dashboard"));
  const body = resolve(dashboard?.Properties.DashboardBody);
  const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm")).map(
    (alarm) => alarm.Properties as Record<string, unknown>,
  );
  return {
    resources: Object.keys(json.Resources).length,
    templateBytes: Buffer.byteLength(JSON.stringify(json, null, 1)),
    alarms: Object.fromEntries(
      alarms.map((alarm) => [
        alarm.AlarmName,
        { ...alarm, AlarmDescription: resolve(alarm.AlarmDescription) },
      ]),
    ),
    dashboard: JSON.parse(body),
    dashboardBytes: Buffer.byteLength(body),
  };
}

function expectWithinLimits(measured: Measured): void {
  expect(measured.resources).toBeLessThan(MAX_RESOURCES);
  expect(measured.templateBytes).toBeLessThan(MAX_TEMPLATE_BYTES);
  expect(measured.dashboardBytes).toBeLessThan(MAX_TEMPLATE_BYTES);
  const widgets = measured.dashboard.widgets;
  expect(widgets.length).toBeLessThanOrEqual(MAX_WIDGETS);
  const perWidget = widgets.map((widget) => widget.properties.metrics?.length ?? 0);
  for (const count of perWidget) expect(count).toBeLessThanOrEqual(MAX_METRICS_PER_WIDGET);
  expect(perWidget.reduce((sum, count) => sum + count, 0)).toBeLessThanOrEqual(MAX_METRICS_PER_DASHBOARD);
  for (const alarm of Object.values(measured.alarms)) {
    expect(String(alarm.AlarmDescription).length).toBeLessThanOrEqual(MAX_DESCRIPTION);
  }
}

describe("2,000 targets (config/aws-example.yaml grown)", () => {
  let stack: Stack;
  let measured: Measured;
  beforeAll(() => {
    // cdk-nag runs too: a finding makes the synth throw.
    const synth = synthStack(exampleGrownTo(2000), { nag: true });
    synth.app.synth();
    stack = synth.stack;
    measured = measure(synth.template);
  });

  it("synthesizes within CloudFormation's and CloudWatch's limits", () => {
    expectWithinLimits(measured);
    // Measured: 89 resources, 14 alarms, a dashboard body of 5.5 KB.
    expect(measured.resources).toBeLessThan(100);
  });

  it("watches the fleet with seven Metrics Insights alarms, no alarm per target", () => {
    const fleet = Object.keys(measured.alarms).filter((name) => name.startsWith("EmailScout-Fleet"));
    expect(fleet.sort()).toEqual([
      "EmailScout-FleetCertificatesExpiring",
      "EmailScout-FleetChecksFailing",
      "EmailScout-FleetChecksMissing",
      "EmailScout-FleetPostureFailing",
      "EmailScout-FleetProbesBounced",
      "EmailScout-FleetProbesLost",
      "EmailScout-FleetRoundTripSlow",
    ]);
    expect(Object.keys(measured.alarms)).toHaveLength(14);
    expect(JSON.stringify(measured.alarms)).not.toContain("target-1999");
    const queries = fleet.map(
      (name) => (measured.alarms[name]?.Metrics as { Expression: string }[] | undefined)?.[0]?.Expression,
    );
    expect(queries.sort()).toEqual([
      'SELECT COUNT(CheckFailed) FROM SCHEMA("EmailScout", Protocol, Target)',
      'SELECT MAX(CheckFailed) FROM SCHEMA("EmailScout", Protocol, Target)',
      'SELECT MAX(PostureFailed) FROM SCHEMA("EmailScout", Check, Target)',
      'SELECT MAX(RoundTripTime) FROM SCHEMA("EmailScout", Target)',
      'SELECT MIN(CertificateDaysLeft) FROM SCHEMA("EmailScout", Protocol, Target)',
      'SELECT SUM(ProbeBounced) FROM SCHEMA("EmailScout", Target)',
      'SELECT SUM(ProbeLost) FROM SCHEMA("EmailScout", Target)',
    ]);
  });

  it("fires for failed checks within confirmAfter cycles, and for a prober that stops reporting", () => {
    const alarm = measured.alarms["EmailScout-FleetChecksFailing"] as Record<string, unknown>;
    expect(alarm).toMatchObject({
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      DatapointsToAlarm: 2,
      EvaluationPeriods: 2,
      TreatMissingData: "breaching",
      Metrics: [expect.objectContaining({ Period: 300, ReturnData: true })],
    });
    // The query's MAX over every target's series, period by period.
    const rule: AlarmRule = {
      ...(alarm as unknown as AlarmRule),
      Period: 300,
      Statistic: "Maximum",
    };
    const oneFails = checkCycles({
      intervalSeconds: 300,
      cycles: 12,
      endpoints: 2000,
      failing: (cycle, endpoint) => cycle >= 4 && endpoint === 1234,
    });
    expect(firstAlarmingPeriod(rule, oneFails, 12)).toBe(5);
    const silent = checkCycles({
      intervalSeconds: 300,
      cycles: 12,
      endpoints: 2000,
      failing: () => false,
      runs: (cycle) => cycle < 4,
    });
    expect(firstAlarmingPeriod(rule, silent, 12)).toBe(5);
  });

  it("fires when one prober shard stops reporting while the others go on, not for a few missing checks", () => {
    const alarm = measured.alarms["EmailScout-FleetChecksMissing"] as Record<string, unknown>;
    const shards = Number(stack.resolve((stack.node.findChild("ProberShards") as CfnOutput).value));
    expect(shards).toBeGreaterThan(1);
    const rule: AlarmRule = { ...(alarm as unknown as AlarmRule), Period: 300, Statistic: "SampleCount" };
    const endpoints = Number(alarm.Threshold) + Math.floor(Number(alarm.Threshold) / (2 * shards - 1));
    const perShard = Math.ceil(endpoints / shards);
    const cycles = (count: number, runs: (cycle: number) => boolean = () => true) =>
      checkCycles({ intervalSeconds: 300, cycles: 12, endpoints: count, failing: () => false, runs });
    // Every shard reports: no alarm. A few checks short (a target's endpoints): no alarm.
    expect(firstAlarmingPeriod(rule, cycles(endpoints), 12)).toBeUndefined();
    expect(firstAlarmingPeriod(rule, cycles(endpoints - 5), 12)).toBeUndefined();
    // One shard's invocations fail from the fifth run on, the others go on.
    const oneShardStops = [...cycles(endpoints - perShard), ...cycles(perShard, (cycle) => cycle < 4)];
    expect(firstAlarmingPeriod(rule, oneShardStops, 12)).toBe(5);
    expect(String(alarm.AlarmDescription)).toContain(`of ${shards})`);
  });

  it("says where to find the failing targets: the fleet dashboard and the query that lists them", () => {
    const description = String(measured.alarms["EmailScout-FleetChecksFailing"]?.AlarmDescription);
    expect(description).toContain(
      "https://console.aws.amazon.com/cloudwatch/home?region=ap-southeast-2#dashboards/dashboard/EmailScout",
    );
    expect(description).toContain(
      'SELECT SUM(CheckFailed) FROM SCHEMA("EmailScout", Protocol, Target) GROUP BY Target, Protocol ORDER BY SUM() DESC LIMIT 10',
    );
  });

  it("has a fleet dashboard with the worst targets first, the same size for any fleet", () => {
    const body = JSON.stringify(measured.dashboard);
    expect(body).not.toContain("target-1999");
    const tables = measured.dashboard.widgets.filter(
      (widget) => (widget.properties as { view?: string }).view === "table",
    );
    const queries = tables.map((widget) => JSON.stringify(widget.properties.metrics));
    // Checks, probes and (the example's first target names its domain) the posture.
    expect(queries).toHaveLength(8);
    for (const query of queries)
      expect(query).toMatch(
        /GROUP BY Target.* ORDER BY (MAX|SUM)\(\) DESC LIMIT 10|ORDER BY MIN\(\) ASC LIMIT 10/,
      );
    // No label: CloudWatch names each row by its target and protocol.
    for (const query of queries) expect(query).not.toContain('"label"');
    expect(measured.dashboardBytes).toBeLessThan(10_000);
  });

  it("says at synth that the fleet is watched as a whole, and which probe thresholds it cannot honour", () => {
    Annotations.fromStack(stack).hasInfo(
      "*",
      Match.stringLikeRegexp("2000 targets, more than aws.perTargetAlarmsUpTo \\(20\\)"),
    );
    Annotations.fromStack(stack).hasWarning(
      "*",
      Match.stringLikeRegexp("200 probe target\\(s\\) have a critical round-trip time below 300 s"),
    );
  });
});

describe("aws.perTargetAlarmsUpTo", () => {
  it("gives each target its alarms and dashboard row up to 20 targets by default, the fleet's beyond", () => {
    const twenty = measure(synthStack(exampleGrownTo(20)).template);
    expect(Object.keys(twenty.alarms).filter((name) => name.includes("Target-"))).toHaveLength(
      10 * 9 + 10 * 2,
    );
    expect(Object.keys(twenty.alarms).some((name) => name.includes("Fleet"))).toBe(false);
    const more = measure(synthStack(exampleGrownTo(21)).template);
    expect(Object.keys(more.alarms).some((name) => name.includes("Target-"))).toBe(false);
    expect(Object.keys(more.alarms).filter((name) => name.includes("Fleet"))).toHaveLength(7);
  });

  it("at its maximum of 40 targets with every protocol and a probe, still fits the limits", () => {
    const measured = measure(synthStack(exampleGrownTo(40, { perTargetAlarmsUpTo: 40 }, true)).template);
    expect(Object.keys(measured.alarms).filter((name) => name.includes("Target-"))).toHaveLength(40 * 9);
    expectWithinLimits(measured);
  });
});
