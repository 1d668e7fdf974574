import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import type { LogFields, Logger } from "../../core/ports/logger.ts";

/**
 * The Logger port on Powertools Logger: one JSON line per entry with the service name (from
 * POWERTOOLS_SERVICE_NAME) and, inside Lambda, the request id. Fields are flat, as the port
 * says; callers never put secrets in them.
 */
export function powertoolsLogger(logger: PowertoolsLogger = new PowertoolsLogger()): Logger & {
  readonly powertools: PowertoolsLogger;
} {
  return {
    powertools: logger,
    info: (message, fields) => logger.info(message, defined(fields)),
    warn: (message, fields) => logger.warn(message, defined(fields)),
    error: (message, fields) => logger.error(message, defined(fields)),
  };
}

function defined(fields: LogFields = {}): Record<string, string | number | boolean | null> {
  const kept: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) kept[key] = value;
  return kept;
}
