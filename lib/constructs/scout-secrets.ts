import { Validations } from "aws-cdk-lib";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";

/**
 * The two secrets, created with random placeholder values that the operator replaces (docs/aws.md):
 * the global probe key ring (the text of an `email-scout key new` file; a probe target with
 * probe.keyFile uses the secret that ARN names instead) and the webhook signing secrets (a JSON
 * map endpoint id -> whsec_...). Functions read them at cold start; only their ARNs are in env vars.
 */
export class ScoutSecrets extends Construct {
  readonly probeKey: secretsmanager.Secret;
  readonly webhookSecrets: secretsmanager.Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.probeKey = new secretsmanager.Secret(this, "ProbeKeySecret", {
      description:
        "Email Scout global probe key ring, for probe targets without probe.keyFile: set it to the text of a file made by `email-scout key new` (the ring their email_return holds)",
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(this.probeKey).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "The probe key is shared with email_return on every monitored mail server; an automatic rotation would break every installed copy, so it is rotated by hand with those servers.",
    });
    this.webhookSecrets = new secretsmanager.Secret(this, "WebhookSecrets", {
      description: 'Email Scout webhook signing secrets: a JSON map {"<endpoint id>": "whsec_..."}',
      generateSecretString: {
        secretStringTemplate: "{}",
        generateStringKey: "replace-me",
        excludePunctuation: true,
      },
    });
    Validations.of(this.webhookSecrets).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "Each whsec_ secret is shared with the webhook receiver that verifies it; rotation is agreed with that receiver, so it cannot be automatic.",
    });
  }
}
