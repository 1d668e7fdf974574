import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { parseDeployConfigText } from "../../core/config/parse-config.ts";
import type { DeployConfig } from "../../core/config/schema.ts";
import { ENV, optionalEnv } from "./env.ts";

export const CONFIG_FILE_NAME = "scout-config.json";

/**
 * Where the validated config is: SCOUT_CONFIG_FILE, else scout-config.json beside the handler
 * (the stack copies it into the bundle, which Lambda unpacks at LAMBDA_TASK_ROOT). A relative
 * SCOUT_CONFIG_FILE is taken from the bundle root too.
 */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const root = optionalEnv("LAMBDA_TASK_ROOT", env) ?? process.cwd();
  const given = optionalEnv(ENV.configFile, env);
  if (given === undefined) return join(root, CONFIG_FILE_NAME);
  return isAbsolute(given) ? given : join(root, given);
}

/** Reads and validates the deploy config; throws with the path and every problem, key by key. */
export function loadDeployConfig(path: string): DeployConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new Error(
      `cannot read the Email Scout config ${path} (${code}): the stack copies it into the bundle; ` +
        `set ${ENV.configFile} if it lives elsewhere`,
      { cause },
    );
  }
  return parseDeployConfigText(text, path);
}
