/**
 * Whether the stack's SES receipt rule set may be made, or stop being, the region's active one.
 * SES keeps one active set per region, for all of the account's domains: a set someone else
 * activated is never replaced nor deactivated from here.
 */

/** What the custom resource does for one CloudFormation request. */
export type ActivationDecision =
  | { readonly action: "activate" }
  | { readonly action: "deactivate" }
  | { readonly action: "leave"; readonly why: string }
  | { readonly action: "refuse"; readonly reason: string };

export interface OurRuleSet {
  readonly ruleSetName: string;
  readonly domain: string;
  readonly region: string;
}

/** `active` is the region's active rule set's name, undefined when none is. */
export function activationDecision(
  request: "Create" | "Update" | "Delete",
  active: string | undefined,
  ours: OurRuleSet,
): ActivationDecision {
  if (request === "Delete") {
    return active === ours.ruleSetName
      ? { action: "deactivate" }
      : {
          action: "leave",
          why: active === undefined ? "no rule set is active" : `"${active}" is active, not ours`,
        };
  }
  if (active === undefined) return { action: "activate" };
  if (active === ours.ruleSetName) return { action: "leave", why: "ours is already active" };
  return { action: "refuse", reason: refusal(active, ours) };
}

function refusal(active: string, ours: OurRuleSet): string {
  return (
    `SES receipt rule set "${active}" is active in ${ours.region}, and only one can be: this stack does not replace it. ` +
    `Either add a rule for ${ours.domain} to "${active}" (recipient ${ours.domain}, TLS required, spam and virus scan, ` +
    `S3 action to the returns bucket with prefix returns/; docs/aws.md) and set aws.activateReceiptRuleSet: false, ` +
    `or, if nothing needs "${active}", deactivate it (aws ses set-active-receipt-rule-set --region ${ours.region}) and deploy again.`
  );
}
