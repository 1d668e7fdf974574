import { SESClient } from "@aws-sdk/client-ses";
import { describeError } from "../../core/basics/describe-error.ts";
import type { Logger } from "../../core/ports/logger.ts";
import { answerCloudFormation, type CustomResourceAnswer } from "../aws/cloudformation-response.ts";
import { powertoolsLogger } from "../aws/powertools-logger.ts";
import { SesActiveRuleSet } from "../aws/ses-receipt-rule-sets.ts";
import { parseReceiptRuleSetRequest } from "../events/custom-resource-event.ts";
import { AWS_CLIENT_DEFAULTS } from "../runtime/lambda-basics.ts";
import { activationDecision } from "../runtime/receipt-rule-set-activation.ts";

/** Stand-ins for tests; in Lambda the SES client and logger are made here. */
export interface ReceiptRuleSetOptions {
  readonly ses?: SESClient;
  readonly log?: Logger;
}

/**
 * The function behind the stack's Custom::SesActiveReceiptRuleSet (aws.activateReceiptRuleSet):
 * on Create and Update it activates the stack's receipt rule set when the region has none active,
 * and fails the deploy with what to do when another set is active; on Delete it deactivates the
 * set only while it is still the active one. CloudFormation always gets an answer: a request
 * left unanswered holds the stack for an hour.
 */
export function createReceiptRuleSetHandler(options: ReceiptRuleSetOptions = {}) {
  const ruleSets = new SesActiveRuleSet(options.ses ?? new SESClient(AWS_CLIENT_DEFAULTS));
  const log = options.log ?? powertoolsLogger();
  return async (event: unknown): Promise<CustomResourceAnswer> => {
    const request = parseReceiptRuleSetRequest(event);
    const { RuleSetName, Domain, Region } = request.ResourceProperties;
    const ours = { ruleSetName: RuleSetName, domain: Domain, region: Region };
    const physical = { PhysicalResourceId: RuleSetName };
    let answer: CustomResourceAnswer;
    try {
      const active = await ruleSets.name();
      const decision = activationDecision(request.RequestType, active, ours);
      if (decision.action === "activate") await ruleSets.activate(RuleSetName);
      if (decision.action === "deactivate") await ruleSets.deactivate();
      log.info("receipt rule set request", {
        request: request.RequestType,
        ruleSet: RuleSetName,
        active: active ?? null,
        action: decision.action,
      });
      if (decision.action === "refuse") answer = { Status: "FAILED", Reason: decision.reason, ...physical };
      else {
        const done =
          decision.action === "leave"
            ? `left as it is: ${decision.why}`
            : `${decision.action}d "${RuleSetName}"`;
        answer = { Status: "SUCCESS", Reason: done, ...physical };
      }
    } catch (error) {
      log.error("receipt rule set request failed", {
        request: request.RequestType,
        error: describeError(error),
      });
      answer = {
        Status: "FAILED",
        Reason: `SES refused or did not answer: ${describeError(error)}`,
        ...physical,
      };
    }
    await answerCloudFormation(request, answer);
    return answer;
  };
}

/** The Lambda entry point. */
export const handler = createReceiptRuleSetHandler();
