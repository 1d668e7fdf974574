import { type App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { DeployConfig } from "../core/config/schema.ts";
import { AWS_DEFAULTS } from "./config/aws-defaults.ts";
import { EmailScoutStack } from "./email-scout-stack.ts";

export interface ScoutAppOptions {
  /** Run cdk-nag's AWS Solutions checks at synth: any unacknowledged finding fails it. */
  readonly nag?: boolean;
  /** The CDK CLI's region (CDK_DEFAULT_REGION), where an environment-agnostic stack deploys. */
  readonly cliRegion?: string;
}

/**
 * Adds the one Email Scout stack to the app (the `cdk` CLI's and the tests'), named and placed by
 * the config's `aws` block.
 */
export function addScoutStack(
  app: App,
  config: DeployConfig,
  options: ScoutAppOptions = {},
): EmailScoutStack {
  const aws = config.aws;
  // Environment-agnostic unless the config pins account or region: nothing here needs a lookup.
  const env = {
    ...(aws?.account ? { account: aws.account } : {}),
    ...(aws?.region ? { region: aws.region } : {}),
  };
  const stack = new EmailScoutStack(app, aws?.stackName ?? AWS_DEFAULTS.stackName, {
    config,
    ...(options.cliRegion ? { cliRegion: options.cliRegion } : {}),
    description: "Email Scout: mail-server checks and round-trip probes",
    ...(Object.keys(env).length > 0 ? { env } : {}),
  });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
