import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack, Validations } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { synthStack } from "../../support/synth-stack.ts";

describe("cdk-nag AWS Solutions checks", () => {
  it("find nothing unacknowledged in the stack", () => {
    const { app } = synthStack(undefined, { nag: true });
    // With findings, synth throws and its message lists each rule and construct path.
    const assembly = app.synth();
    const report = JSON.parse(readFileSync(join(assembly.directory, "validation-report.json"), "utf8"));
    const violations = report.pluginReports.flatMap((plugin: { violations: unknown[] }) => plugin.violations);
    expect(violations).toEqual([]);
  });

  it("do run in this setup: an unencrypted queue without a DLQ fails the synth", () => {
    const app = new App({
      outdir: mkdtempSync(join(tmpdir(), "scout-nag-")),
      builtinCloudFormationValidation: false,
    });
    const stack = new Stack(app, "Careless");
    new sqs.Queue(stack, "Queue", { encryption: sqs.QueueEncryption.UNENCRYPTED });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
  });
});
