import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { loadStackConfig } from "../../lib/config/deploy-config.ts";
import type { EmailScoutStack } from "../../lib/email-scout-stack.ts";
import { SCOUT_FEATURE_FLAGS } from "../../lib/feature-flags.ts";
import { addScoutStack } from "../../lib/scout-app.ts";

export const TWO_TARGETS = join(import.meta.dirname, "../unit/lib/fixtures", "two-targets.yaml");

export interface SynthOptions {
  /** Run cdk-nag at synth (findings make it throw). */
  readonly nag?: boolean;
  /** The CDK CLI's region, as bin/cdk-app.ts passes CDK_DEFAULT_REGION. */
  readonly cliRegion?: string;
}

/**
 * Builds the stack from a fixture config without bundling the handlers (esbuild is slow and the
 * template does not depend on the bundle); scout-function.test.ts covers the bundle itself.
 */
export function synthStack(configPath = TWO_TARGETS, options: SynthOptions = {}) {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), "scout-cdk-test-")),
    context: { ...SCOUT_FEATURE_FLAGS, "aws:cdk:bundling-stacks": [] },
    // The built-in CloudFormation schema check costs seconds per synth; `cdk synth` still runs it.
    builtinCloudFormationValidation: false,
  });
  const stack: EmailScoutStack = addScoutStack(app, loadStackConfig(configPath), {
    nag: options.nag ?? false,
    ...(options.cliRegion ? { cliRegion: options.cliRegion } : {}),
  });
  return { app, stack, template: Template.fromStack(stack) };
}

/**
 * cdk-nag's findings for an app built with `nag: true`: synth throws on any unacknowledged one
 * (its message lists each rule and construct path), so an empty list is what a clean stack gives.
 */
export function nagViolations(app: App): unknown[] {
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(join(assembly.directory, "validation-report.json"), "utf8"));
  return report.pluginReports.flatMap((plugin: { violations: unknown[] }) => plugin.violations);
}
