/*
 * npx tsx scripts/synth-unbundled.ts CONFIG OUTDIR: the stack for CONFIG, with cdk-nag, into
 * OUTDIR, the functions left unbundled (their code is an asset whose contents the template does
 * not show). `npm run lint:cfn` lints the shape with every optional aws.* feature on this way, in
 * seconds, besides the bundled cdk.out/ of `npm run synth`.
 */
import { App } from "aws-cdk-lib";
import { loadStackConfig } from "../lib/config/deploy-config.ts";
import { SCOUT_FEATURE_FLAGS } from "../lib/feature-flags.ts";
import { addScoutStack } from "../lib/scout-app.ts";

const [configPath, outdir] = process.argv.slice(2);
if (!configPath || !outdir) {
  process.stderr.write("usage: tsx scripts/synth-unbundled.ts CONFIG OUTDIR\n");
  process.exit(2);
}
// CDK's own schema check costs seconds and cfn-lint checks more.
const app = new App({
  outdir,
  context: { ...SCOUT_FEATURE_FLAGS, "aws:cdk:bundling-stacks": [] },
  builtinCloudFormationValidation: false,
});
addScoutStack(app, loadStackConfig(configPath), { nag: true });
app.synth();
