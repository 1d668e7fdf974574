/*
 * Rules of the configuration format that hold without its schema. The Lambdas read the config
 * the CDK app validated at synth and use these, so their bundles carry no validation library;
 * schema.ts builds its checks on them too.
 */

/** Event types a webhook endpoint may subscribe to (see core/events). */
export const WEBHOOK_EVENT_TYPES = [
  "check.completed",
  "roundtrip.completed",
  "status.changed",
  "certificate.expiring",
  "webhook.test",
] as const;

/** A Secrets Manager secret's ARN, as an endpoint's login.passwordFile must be on AWS. */
export const SECRETS_MANAGER_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

/** The sender address of probes: outbound.from, else the return address (every shape of the config). */
export function probeFromAddress(config: {
  readonly outbound: { readonly from?: string | undefined };
  readonly inbound: { readonly returnAddress: string };
}): string {
  return config.outbound.from ?? config.inbound.returnAddress;
}
