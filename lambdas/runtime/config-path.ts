import { isAbsolute, join } from "node:path";
import { ENV, optionalEnv } from "./env.ts";

export const CONFIG_FILE_NAME = "scout-config.json";

/** What a Lambda says when the config is not where it looks (readDeployConfigFile adds it). */
export const CONFIG_FILE_HINT = `the stack copies it into the bundle; set ${ENV.configFile} if it lives elsewhere`;

/**
 * Where the config the CDK app validated and wrote is (deploy-config-file.ts): SCOUT_CONFIG_FILE,
 * else scout-config.json beside the handler
 * (the stack copies it into the bundle, which Lambda unpacks at LAMBDA_TASK_ROOT). A relative
 * SCOUT_CONFIG_FILE is taken from the bundle root too.
 */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const root = optionalEnv("LAMBDA_TASK_ROOT", env) ?? process.cwd();
  const given = optionalEnv(ENV.configFile, env);
  if (given === undefined) return join(root, CONFIG_FILE_NAME);
  return isAbsolute(given) ? given : join(root, given);
}
