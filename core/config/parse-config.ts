import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { ConfigError } from "./config-error.ts";
import {
  awsDeployConfigSchema,
  configSchema,
  type DeployConfig,
  deployConfigSchema,
  type ScoutConfig,
} from "./schema.ts";

/** Parses YAML or JSON text (JSON is YAML) and validates it. Relative paths stay as written. */
export function parseConfigText(text: string, source: string): ScoutConfig {
  return validate(configSchema, readYaml(text, source), source);
}

/** The deploy format without the AWS rules: local-only keys (dataDir, probeKeyFile) may be absent. */
export function parseDeployConfigText(text: string, source: string): DeployConfig {
  return validate(deployConfigSchema, readYaml(text, source), source);
}

/** The AWS shape (the CDK app, the Lambdas): the deploy format and the rules only AWS adds. */
export function parseAwsConfigText(text: string, source: string): DeployConfig {
  return validate(awsDeployConfigSchema, readYaml(text, source), source);
}

function validate<T>(schema: z.ZodType<T>, data: unknown, source: string): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new ConfigError(source, describeIssues(parsed.error.issues));
  return parsed.data;
}

function readYaml(text: string, source: string): object {
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    throw new ConfigError(source, [`not valid YAML/JSON: ${(error as Error).message.split("\n")[0]}`]);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigError(source, [
      "the top level must be a mapping of keys (dataDir, inbound, targets, ...)",
    ]);
  }
  return data;
}

/** "targets[0].endpoints[1].url: must be ..." for each issue. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const key = issue.path.reduce<string>(
      (text, part) =>
        typeof part === "number" ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part),
      "",
    );
    if (issue.code === "unrecognized_keys") {
      const keys = issue.keys.map((k) => (key ? `${key}.${k}` : k)).join(", ");
      return `${keys}: unknown key${issue.keys.length > 1 ? "s" : ""}`;
    }
    if (issue.code === "invalid_type" && / received undefined$/.test(issue.message))
      return `${key || "(top level)"}: is required`;
    return `${key || "(top level)"}: ${issue.message}`;
  });
}
