/** A variable the function needs is missing or unusable; the message names it. */
export class EnvironmentError extends Error {
  override readonly name = "EnvironmentError";
}

/** Reads a required variable: the CDK stack sets each one for the functions that need it. */
export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name]?.trim();
  if (value === undefined || value === "") {
    throw new EnvironmentError(
      `environment variable ${name} is not set; the EmailScout stack sets it on this function: deploy with it, or set it by hand`,
    );
  }
  return value;
}

export function optionalEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/** The variables of the stack's contract, by name. */
export const ENV = {
  probesTable: "PROBES_TABLE",
  resultsTable: "RESULTS_TABLE",
  returnsBucket: "RETURNS_BUCKET",
  probeKeySecretArn: "PROBE_KEY_SECRET_ARN",
  eventsQueueUrl: "EVENTS_QUEUE_URL",
  /** The events queue's dead-letter queue: where the notifier moves what it cannot deliver. */
  eventsDlqUrl: "EVENTS_DLQ_URL",
  /** The webhook signing secrets, a JSON map {"<endpoint id>": "whsec_..."}. */
  webhookSecretArn: "WEBHOOK_SECRET_ARN",
  /** The notifier's table of failing endpoints and the events parked behind them. */
  webhookHoldsTable: "WEBHOOK_HOLDS_TABLE",
  sesFrom: "SES_FROM",
  /** The SES configuration set the probes are sent with (its suppression list is off). */
  sesConfigurationSet: "SES_CONFIGURATION_SET",
  configFile: "SCOUT_CONFIG_FILE",
} as const;
