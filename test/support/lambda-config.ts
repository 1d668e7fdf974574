import { writeFileSync } from "node:fs";
import { parseAwsConfigText } from "../../core/config/parse-config.ts";
import type { DeployConfig } from "../../core/config/schema.ts";
import { deployConfigFileText } from "../../lambdas/runtime/deploy-config-file.ts";

/**
 * Writes `config` to `file` as the CDK app ships it in each bundle: validated with the AWS shape
 * of the schema, then written by deployConfigFileText. Returns the validated config.
 */
export function writeLambdaConfig(file: string, config: object): DeployConfig {
  const valid = parseAwsConfigText(JSON.stringify(config), file);
  writeFileSync(file, deployConfigFileText(valid));
  return valid;
}
