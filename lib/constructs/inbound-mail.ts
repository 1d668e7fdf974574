import { CfnOutput, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as route53 from "aws-cdk-lib/aws-route53";
import type * as s3 from "aws-cdk-lib/aws-s3";
import * as ses from "aws-cdk-lib/aws-ses";
import { Construct, type IConstruct } from "constructs";

export interface InboundMailProps {
  /** The inbound domain: returns and bounces arrive here, and probes are sent from it. */
  readonly domain: string;
  readonly bucket: s3.IBucket;
  readonly objectKeyPrefix: string;
  /** Names the receipt rule set, which must be unique in the region. */
  readonly ruleSetName: string;
  /** aws.mailFromSubdomain: a custom MAIL FROM domain, this label under the domain. */
  readonly mailFromSubdomain?: string;
  /**
   * A Route 53 public hosted zone holding the domain (aws.hostedZoneId and hostedZoneName): its
   * DKIM CNAMEs and MX record are then published there. Named, not looked up: synth stays offline.
   */
  readonly hostedZone?: { readonly id: string; readonly name: string };
}

/**
 * The domain as an SES identity whose DKIM records CDK publishes in a hosted zone.
 * Identity.publicHostedZone would verify the zone's own name, while the inbound domain may be a
 * subdomain of it.
 */
class DomainInZone extends ses.Identity {
  constructor(
    readonly value: string,
    readonly hostedZone: route53.IPublicHostedZone,
  ) {
    super();
  }
}

const RULE_NAME = "store-returns";

/**
 * SES for the inbound domain: an identity with Easy DKIM (probes are sent from it) and a receipt
 * rule that stores every message for the domain in S3, over TLS only and with the spam and virus
 * scan (its verdict headers travel with the message). The rule accepts the whole domain: the
 * correlator checks the exact recipient and rejects the rest.
 */
export class InboundMail extends Construct {
  readonly identity: ses.EmailIdentity;
  readonly ruleSet: ses.ReceiptRuleSet;

  constructor(scope: Construct, id: string, props: InboundMailProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const mailFrom = props.mailFromSubdomain && `${props.mailFromSubdomain}.${props.domain}`;
    const inboundSmtp = `inbound-smtp.${stack.region}.amazonaws.com`;
    const zone = props.hostedZone
      ? route53.PublicHostedZone.fromPublicHostedZoneAttributes(this, "Zone", {
          hostedZoneId: props.hostedZone.id,
          zoneName: props.hostedZone.name,
        })
      : undefined;
    this.identity = new ses.EmailIdentity(this, "Identity", {
      identity: zone ? new DomainInZone(props.domain, zone) : ses.Identity.domain(props.domain),
      dkimSigning: true,
      // Until its MX is published SES keeps sending, from its own amazonses.com MAIL FROM.
      ...(mailFrom
        ? {
            mailFromDomain: mailFrom,
            mailFromBehaviorOnMxFailure: ses.MailFromBehaviorOnMxFailure.USE_DEFAULT_VALUE,
          }
        : {}),
    });
    if (zone) {
      // SES receives the domain's mail only through this MX; the parent domain's mail is untouched.
      new route53.MxRecord(this, "MxRecord", {
        zone,
        recordName: `${props.domain}.`,
        values: [{ priority: 10, hostName: inboundSmtp }],
      });
    }
    this.ruleSet = new ses.ReceiptRuleSet(this, "RuleSet", { receiptRuleSetName: props.ruleSetName });
    // The rule's ARN, built from names rather than the rule itself: the bucket policy naming it
    // must exist before the rule (SES tests its write access when the rule is created).
    const ruleArn = stack.formatArn({
      service: "ses",
      resource: "receipt-rule-set",
      resourceName: `${props.ruleSetName}:receipt-rule/${RULE_NAME}`,
    });
    const putReturns = new iam.PolicyStatement({
      sid: "AllowSesToStoreReturns",
      principals: [new iam.ServicePrincipal("ses.amazonaws.com")],
      actions: ["s3:PutObject"],
      resources: [props.bucket.arnForObjects(`${props.objectKeyPrefix}*`)],
      conditions: {
        StringEquals: { "aws:SourceAccount": stack.account },
        ArnLike: { "aws:SourceArn": ruleArn },
      },
    });
    props.bucket.addToResourcePolicy(putReturns);
    const rule = this.ruleSet.addRule("StoreReturns", {
      receiptRuleName: RULE_NAME,
      recipients: [props.domain],
      tlsPolicy: ses.TlsPolicy.REQUIRE,
      scanEnabled: true,
      enabled: true,
      actions: [
        {
          bind: () => ({
            s3Action: { bucketName: props.bucket.bucketName, objectKeyPrefix: props.objectKeyPrefix },
          }),
        },
      ],
    });
    const policy: IConstruct | undefined = props.bucket.node.tryFindChild("Policy");
    if (policy) rule.node.addDependency(policy);

    new CfnOutput(scope, "ReceiptRuleSetName", {
      value: this.ruleSet.receiptRuleSetName,
      description: "SES receipt rule set: activate it (only one can be active per region)",
    });
    new CfnOutput(scope, "ActivateReceiptRuleSetCommand", {
      value: `aws ses set-active-receipt-rule-set --region ${stack.region} --rule-set-name ${props.ruleSetName}`,
      description: "Run once after the first deploy: replaces the region's active rule set",
    });
    const published = zone ? ` (published in the hosted zone ${props.hostedZone?.name})` : "";
    new CfnOutput(scope, "MxRecord", {
      value: `10 ${inboundSmtp}`,
      description: zone
        ? `The MX record of ${props.domain}${published}`
        : `Publish as the MX record of ${props.domain}`,
    });
    new CfnOutput(scope, "SesIdentity", {
      value: props.domain,
      description: "SES domain identity (receives returns, sends probes): verify it with the DKIM records",
    });
    if (mailFrom) {
      // SES's requirements: exactly one MX, at its feedback endpoint (SES receives the bounces and
      // forwards them to the probe's bounces+ address), and SPF allowing amazonses.com.
      new CfnOutput(scope, "MailFromMxRecord", {
        value: `${mailFrom} MX 10 feedback-smtp.${stack.region}.amazonses.com`,
        description: `Publish for the custom MAIL FROM domain ${mailFrom} (its only MX record)`,
      });
      new CfnOutput(scope, "MailFromSpfRecord", {
        value: `${mailFrom} TXT "v=spf1 include:amazonses.com ~all"`,
        description: `Publish for the custom MAIL FROM domain ${mailFrom}`,
      });
    }
    this.identity.dkimRecords.forEach((record, index) => {
      new CfnOutput(scope, `DkimRecord${index + 1}`, {
        value: `${record.name} CNAME ${record.value}`,
        description: zone
          ? `DKIM CNAME record ${index + 1} of ${props.domain}${published}`
          : `DKIM CNAME record ${index + 1} to publish for ${props.domain}`,
      });
    });
  }
}
