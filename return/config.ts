import { readFileSync } from "node:fs";
import { isAbsolute } from "node:path";
import { isPlainAddress } from "./address.ts";

/** email_return's configuration (return.json), after validation and defaults. */
export interface ReturnConfig {
  /** The only address replies ever go to. */
  returnTo: string;
  keyFile: string;
  sendmail: string;
  /** How much of the message is kept; the rest is read and dropped. */
  maxBytes: number;
  maxAgeSeconds: number;
  logFile?: string;
  /** From: of the reply; when absent, chosen from the delivery environment. */
  from?: string;
}

/**
 * The configuration is unusable. `problems` has one line per broken rule, each naming its key;
 * `logFile` is set when the file still said where to log, so the reason can be recorded.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly problems: string[],
    readonly logFile?: string,
    options?: { cause?: unknown },
  ) {
    super(problems.join("; "), options);
  }
}

export const MIN_MAX_BYTES = 4096;
export const MAX_MAX_BYTES = 64 * 1024 * 1024;
export const MIN_MAX_AGE_SECONDS = 60;
export const MAX_MAX_AGE_SECONDS = 30 * 86400;

const DEFAULTS = { sendmail: "/usr/sbin/sendmail", maxBytes: 1024 * 1024, maxAgeSeconds: 86400 };
const KEYS = ["returnTo", "keyFile", "sendmail", "maxBytes", "maxAgeSeconds", "logFile", "from"];

type Check = (value: unknown) => boolean;
const address: Check = (v) => typeof v === "string" && isPlainAddress(v);
const absolutePath: Check = (v) => typeof v === "string" && isAbsolute(v) && !/[\0\r\n]/.test(v);
const integerIn =
  (min: number, max: number): Check =>
  (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

const RULES: Record<string, { check: Check; required: boolean; expected: string }> = {
  returnTo: { check: address, required: true, expected: "a plain address like returns@example.com" },
  keyFile: { check: absolutePath, required: true, expected: "an absolute path" },
  sendmail: { check: absolutePath, required: false, expected: "an absolute path" },
  maxBytes: {
    check: integerIn(MIN_MAX_BYTES, MAX_MAX_BYTES),
    required: false,
    expected: `an integer from ${MIN_MAX_BYTES} to ${MAX_MAX_BYTES}`,
  },
  maxAgeSeconds: {
    check: integerIn(MIN_MAX_AGE_SECONDS, MAX_MAX_AGE_SECONDS),
    required: false,
    expected: `an integer from ${MIN_MAX_AGE_SECONDS} to ${MAX_MAX_AGE_SECONDS}`,
  },
  logFile: { check: absolutePath, required: false, expected: "an absolute path" },
  from: { check: address, required: false, expected: "a plain address like probe@example.com" },
};

/** Checks a parsed return.json strictly: unknown keys, missing keys and bad values all fail. */
export function validateConfig(value: unknown): ReturnConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(["the configuration must be a JSON object"]);
  }
  const input = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(input)) {
    if (!KEYS.includes(key)) problems.push(`unknown key "${key}"`);
  }
  for (const [key, rule] of Object.entries(RULES)) {
    if (!(key in input)) {
      if (rule.required) problems.push(`"${key}" is required`);
    } else if (!rule.check(input[key])) {
      problems.push(`"${key}" must be ${rule.expected}`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(
      problems,
      RULES.logFile?.check(input.logFile) ? (input.logFile as string) : undefined,
    );
  }
  return { ...DEFAULTS, ...(input as unknown as ReturnConfig) };
}

/** Reads and validates the configuration file. Throws ConfigError. */
export function loadConfig(path: string): ReturnConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigError([`cannot read ${path}: ${(cause as NodeJS.ErrnoException).code}`], undefined, {
      cause,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError([`${path} is not valid JSON: ${(cause as Error).message}`], undefined, { cause });
  }
  try {
    return validateConfig(value);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(
      error.problems.map((p) => `${path}: ${p}`),
      error.logFile,
    );
  }
}
