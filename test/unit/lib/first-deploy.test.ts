import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Stack } from "aws-cdk-lib";
import { Annotations, Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { synthStack, TWO_TARGETS } from "../../support/synth-stack.ts";

/** The two-target fixture with `extra` lines appended to its aws block (the file's last block). */
function fixtureWith(extra: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "scout-first-deploy-")), "config.yaml");
  writeFileSync(file, `${readFileSync(TWO_TARGETS, "utf8").trimEnd()}\n${extra}\n`);
  return file;
}

function rules(template: Template): { State?: string; Targets: unknown[] }[] {
  return Object.values(template.findResources("AWS::Events::Rule")).map((rule) => rule.Properties);
}

function alarms(
  template: Template,
): { AlarmName: string; ActionsEnabled?: boolean; AlarmActions?: unknown[] }[] {
  return Object.values(template.findResources("AWS::CloudWatch::Alarm")).map((alarm) => alarm.Properties);
}

describe("aws.scheduleEnabled: false, for a first deploy", () => {
  let template: Template;
  let stack: Stack;
  let sharded: Template;
  beforeAll(() => {
    ({ template, stack } = synthStack(fixtureWith("  scheduleEnabled: false")));
    ({ template: sharded } = synthStack(fixtureWith("  scheduleEnabled: false\n  proberShards: 7")));
  });

  it("creates the prober's schedule rules disabled, sharded or not", () => {
    expect(rules(template).map((rule) => rule.State)).toEqual(["DISABLED"]);
    expect(rules(sharded).map((rule) => [rule.State, rule.Targets.length])).toEqual([
      ["DISABLED", 5],
      ["DISABLED", 2],
    ]);
  });

  it("keeps every alarm, its action wired to the topic but switched off", () => {
    const all = alarms(template);
    expect(all.map((alarm) => alarm.AlarmName)).toEqual(
      expect.arrayContaining(["ScoutTest-ProberNotRunning", "ScoutTest-ProberErrors"]),
    );
    for (const alarm of all) {
      expect(alarm.ActionsEnabled, alarm.AlarmName).toBe(false);
      expect(alarm.AlarmActions, alarm.AlarmName).toEqual([{ Ref: expect.stringMatching(/^AlarmsTopic/) }]);
    }
  });

  it("says at synth that the schedule is off and what to do before turning it on", () => {
    Annotations.fromStack(stack).hasWarning(
      "/ScoutTest",
      Match.stringLikeRegexp("aws.scheduleEnabled is false: the prober's schedule is created disabled"),
    );
    template.hasOutput("ProberScheduleRate", {
      Description: Match.stringLikeRegexp("the schedule is disabled \\(aws.scheduleEnabled: false\\)$"),
    });
  });
});

describe("aws.scheduleEnabled: true, and left out", () => {
  it("creates the rules enabled and the alarms with their actions on, without the warning", () => {
    for (const { template, stack } of [synthStack(), synthStack(fixtureWith("  scheduleEnabled: true"))]) {
      expect(rules(template).map((rule) => rule.State)).toEqual(["ENABLED"]);
      for (const alarm of alarms(template)) expect(alarm.ActionsEnabled, alarm.AlarmName).toBe(true);
      Annotations.fromStack(stack).hasNoWarning("*", Match.stringLikeRegexp("scheduleEnabled"));
    }
  });
});

describe("the outputs a smoke test reads", () => {
  it("names the three functions, the probes table and the returns bucket", () => {
    const { template } = synthStack();
    template.hasOutput("ProberFunctionName", { Value: { Ref: Match.stringLikeRegexp("^ProberFunction") } });
    template.hasOutput("CorrelatorFunctionName", {
      Value: { Ref: Match.stringLikeRegexp("^CorrelatorFunction") },
    });
    template.hasOutput("NotifierFunctionName", {
      Value: { Ref: Match.stringLikeRegexp("^NotifierFunction") },
    });
    template.hasOutput("ProbesTableName", { Value: { Ref: Match.stringLikeRegexp("^TablesProbesTable") } });
    template.hasOutput("WebhookHoldsTableName", {
      Value: { Ref: Match.stringLikeRegexp("^TablesWebhookHoldsTable") },
    });
    template.hasOutput("ReturnsBucketName", { Value: { Ref: Match.stringLikeRegexp("^ReturnsBucket") } });
  });
});

describe("a region where SES is not known to receive email", () => {
  const pinnedTo = (region: string) => fixtureWith(`  account: "123456789012"\n  region: ${region}`);
  const receivingWarnings = (stack: Stack) =>
    Annotations.fromStack(stack)
      .findWarning("*", Match.stringLikeRegexp("SES is not known to receive email"))
      .map((warning) => String(warning.entry.data));

  it("is named in a synth warning, with the date of the list and the table to check", () => {
    const [warning, ...more] = receivingWarnings(synthStack(pinnedTo("eu-central-2")).stack);
    expect(more).toEqual([]);
    expect(warning).toContain("SES is not known to receive email in eu-central-2 (aws.region): ");
    expect(warning).toContain("of October 2026");
    expect(warning).toContain("https://docs.aws.amazon.com/general/latest/gr/ses.html#ses_inbound_endpoints");
  });

  it("is the CLI's region for an environment-agnostic stack", () => {
    const [warning] = receivingWarnings(synthStack(TWO_TARGETS, { cliRegion: "ca-west-1" }).stack);
    expect(warning).toContain("in ca-west-1 (the CDK CLI's region, CDK_DEFAULT_REGION, where");
  });

  it("gives no warning for a receiving region, nor when the region is not known at synth", () => {
    expect(receivingWarnings(synthStack(pinnedTo("eu-west-1")).stack)).toEqual([]);
    expect(receivingWarnings(synthStack(TWO_TARGETS, { cliRegion: "us-east-2" }).stack)).toEqual([]);
    expect(receivingWarnings(synthStack().stack)).toEqual([]);
  });
});
