import { App } from "aws-cdk-lib";
import { ConfigError } from "../core/config/config-error.ts";
import { DEFAULT_DEPLOY_CONFIG, loadStackConfig } from "../lib/config/deploy-config.ts";
import { SCOUT_FEATURE_FLAGS } from "../lib/feature-flags.ts";
import { addScoutStack } from "../lib/scout-app.ts";

/*
 * The CDK app: `npx cdk deploy -c config=path/to/config.yaml`. The configuration is the local
 * mode's format; a bad one stops the synth with its ConfigError message (exit 1, no stack trace).
 */
// Feature flags from code; the CLI adds cdk.json's context and -c values on top.
const app = new App({ context: SCOUT_FEATURE_FLAGS });
const configPath = String(app.node.tryGetContext("config") ?? DEFAULT_DEPLOY_CONFIG);
try {
  // The CLI's region: where an environment-agnostic stack deploys, checked for SES receiving.
  const cliRegion = process.env.CDK_DEFAULT_REGION;
  addScoutStack(app, loadStackConfig(configPath), { nag: true, ...(cliRegion ? { cliRegion } : {}) });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
app.synth();
