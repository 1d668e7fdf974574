import {
  DescribeActiveReceiptRuleSetCommand,
  type SESClient,
  SetActiveReceiptRuleSetCommand,
} from "@aws-sdk/client-ses";

/** The region's active SES receipt rule set (SES v1 API: receipt rules have no v2 equivalent). */
export class SesActiveRuleSet {
  constructor(private readonly ses: SESClient) {}

  /** The active set's name, or undefined when the region has none active. */
  async name(): Promise<string | undefined> {
    const active = await this.ses.send(new DescribeActiveReceiptRuleSetCommand({}));
    return active.Metadata?.Name;
  }

  async activate(ruleSetName: string): Promise<void> {
    await this.ses.send(new SetActiveReceiptRuleSetCommand({ RuleSetName: ruleSetName }));
  }

  /** SetActiveReceiptRuleSet without a name leaves the region with no active set. */
  async deactivate(): Promise<void> {
    await this.ses.send(new SetActiveReceiptRuleSetCommand({}));
  }
}
