/**
 * The AWS General Reference's table of the regions where SES receives email: the authority, which
 * AWS extends from time to time. SES sends from more regions than it receives in.
 */
export const SES_RECEIVING_TABLE =
  "https://docs.aws.amazon.com/general/latest/gr/ses.html#ses_inbound_endpoints";

/**
 * The regions where SES receives email as far as this list knows: "Email Receiving endpoints" as
 * reported in October 2026, 22 regions. Not there then: eu-central-2, ap-south-2, ap-southeast-5,
 * ca-west-1, me-central-1 and GovCloud. CloudFormation's per-region resource schemas (as cfn-lint
 * 1.51.0 ships them) have AWS::SES::ReceiptRuleSet in exactly these commercial regions.
 * docs/aws.md, "SES email-receiving regions", gives the sources of each entry.
 */
export const SES_RECEIVING_REGIONS = {
  asOf: "October 2026",
  regions: [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-south-1",
    "sa-east-1",
  ],
} as const;

/** How the stack learned the region it checks: the config, or the CDK CLI for an environment-agnostic stack. */
export type RegionSource = "aws.region" | "CDK_DEFAULT_REGION";

/** The synth warning for a region SES is not known to receive email in; undefined for one it is. */
export function sesReceivingRegionWarning(region: string, source: RegionSource): string | undefined {
  if ((SES_RECEIVING_REGIONS.regions as readonly string[]).includes(region)) return undefined;
  const which =
    source === "aws.region"
      ? "aws.region"
      : "the CDK CLI's region, CDK_DEFAULT_REGION, where this environment-agnostic stack deploys";
  return (
    `SES is not known to receive email in ${region} (${which}): there no return or bounce would come back, and every probe would end lost. ` +
    `The list of SES email-receiving regions this check uses is of ${SES_RECEIVING_REGIONS.asOf}; ` +
    `if the "Email Receiving endpoints" table (${SES_RECEIVING_TABLE}) lists the region now, ignore this warning, else deploy in a region it lists (docs/aws.md, "SES email-receiving regions")`
  );
}
