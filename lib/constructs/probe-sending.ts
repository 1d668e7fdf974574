import { Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as ses from "aws-cdk-lib/aws-ses";
import { Construct } from "constructs";
import { readSendQuota, sendProbes } from "../scout-permissions.ts";

export interface ProbeSendingProps {
  /** The inbound domain's identity: the probes' From and envelope sender are at it. */
  readonly identityArn: string;
  /** The probes' From address. */
  readonly from: string;
  readonly domain: string;
  /** The probe addresses, when the account is in the SES sandbox (aws.sesSandbox). */
  readonly sandboxRecipients?: readonly string[];
}

/**
 * How the prober sends probes through SES: a configuration set whose suppression list is off, and
 * the IAM to send with it and to read the sending quota.
 *
 * Off, because SES's account-level suppression list would otherwise take a probe mailbox that
 * hard-bounced once (during a customer's outage, say) and drop every later probe to it without
 * trying: the target would show "bounced" or lost long after the outage ended. A probe must be
 * tried every time; its bounces are measurements.
 */
export class ProbeSending extends Construct {
  readonly configurationSet: ses.ConfigurationSet;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ProbeSendingProps,
  ) {
    super(scope, id);
    // Renders SuppressionOptions.SuppressedReasons: [] on the SESv2 ConfigurationSet.
    this.configurationSet = new ses.ConfigurationSet(this, "ConfigurationSet", {
      disableSuppressionList: true,
    });
  }

  /** Lets `role` send probes (SendRawEmail) and read the quota (GetSendQuota). */
  grantSend(role: iam.IRole): void {
    const stack = Stack.of(this);
    const arn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: "ses", resource, resourceName });
    const recipients = [...new Set((this.props.sandboxRecipients ?? []).map((to) => to.toLowerCase()))];
    const recipientIdentityArns = [
      ...new Set(recipients.flatMap((to) => [to, to.slice(to.lastIndexOf("@") + 1)])),
    ].map((identity) => arn("identity", identity));
    role.addToPrincipalPolicy(
      sendProbes(
        {
          identityArn: this.props.identityArn,
          configurationSetArn: arn("configuration-set", this.configurationSet.configurationSetName),
          recipientIdentityArns,
        },
        this.props.from,
        this.props.domain,
      ),
    );
    // A policy of its own, so the acknowledgement of its "*" covers this action alone.
    const quota = new iam.Policy(this, "ReadSendQuota", { statements: [readSendQuota()] });
    quota.attachToRole(role);
    Validations.of(quota).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "ses:GetSendQuota has no resource-level permissions (its Resource must be *); it reads the account's sending quota and nothing else.",
    });
  }
}
