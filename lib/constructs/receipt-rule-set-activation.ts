import { CustomResource, Duration, Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as ses from "aws-cdk-lib/aws-ses";
import { Construct } from "constructs";
import type { DeployConfig } from "../../core/config/schema.ts";
import { ScoutFunction } from "./scout-function.ts";

export interface ReceiptRuleSetActivationProps {
  readonly ruleSet: ses.ReceiptRuleSet;
  readonly ruleSetName: string;
  /** The inbound domain, named in the message when another rule set is active. */
  readonly domain: string;
  readonly config: DeployConfig;
  readonly logRetentionDays: number;
  readonly environment: Record<string, string>;
}

/** The custom resource's type, as CloudFormation and its events show it. */
export const ACTIVE_RULE_SET_RESOURCE_TYPE = "Custom::SesActiveReceiptRuleSet";

/**
 * Makes the stack's receipt rule set the region's active one when none is (aws.activateReceiptRuleSet),
 * through a custom resource and a small function (lambdas/handlers/receipt-rule-set.ts): it never
 * replaces a set that is active already, but fails the deploy saying what to do, and on delete
 * deactivates the set only while it is still the active one.
 */
export class ReceiptRuleSetActivation extends Construct {
  readonly handler: ScoutFunction;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ReceiptRuleSetActivationProps) {
    super(scope, id);
    this.handler = new ScoutFunction(this, "Handler", {
      entry: "lambdas/handlers/receipt-rule-set.ts",
      description:
        "Email Scout receipt rule set: activates the stack's SES receipt rule set if none is active",
      config: props.config,
      timeout: Duration.minutes(1),
      logRetentionDays: props.logRetentionDays,
      environment: props.environment,
    });
    const policy = new iam.Policy(this, "ActiveRuleSet", {
      statements: [
        new iam.PolicyStatement({
          actions: ["ses:DescribeActiveReceiptRuleSet", "ses:SetActiveReceiptRuleSet"],
          resources: ["*"],
        }),
      ],
    });
    policy.attachToRole(this.handler.role);
    Validations.of(policy).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "SES's DescribeActiveReceiptRuleSet and SetActiveReceiptRuleSet act on the region's one active rule set and have no resource-level permissions.",
    });
    this.resource = new CustomResource(this, "Resource", {
      serviceToken: this.handler.function.functionArn,
      resourceType: ACTIVE_RULE_SET_RESOURCE_TYPE,
      properties: {
        RuleSetName: props.ruleSetName,
        Domain: props.domain,
        Region: Stack.of(this).region,
      },
    });
    // Activated after the rule set and its rule exist, deactivated before they go; the function
    // keeps its SES rights until the resource is gone.
    this.resource.node.addDependency(props.ruleSet, policy);
  }
}
