import { CfnOutput } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import { fromOwnAlarms } from "../monitoring/alarm-names.ts";

export interface AlarmTopicProps {
  readonly alarmEmail?: string;
  /** The prefix every alarm's name starts with (alarmNamePrefix): only those alarms may publish. */
  readonly alarmNamePrefix: string;
}

const CLOUDWATCH = new iam.ServicePrincipal("cloudwatch.amazonaws.com");

/**
 * The SNS topic every alarm notifies. Encrypted with a key of our own: CloudWatch alarms cannot
 * publish to a topic under the AWS-managed SNS key, whose policy cannot grant them its use.
 *
 * A topic policy replaces SNS's default one, so the deny of plain-HTTP publishes alone would leave
 * CloudWatch without the right to publish and every alarm would change state silently. The topic
 * policy therefore allows cloudwatch.amazonaws.com to publish, and the key policy to use the key
 * (SNS docs, "Enable compatibility between event sources from AWS services and encrypted
 * topics"), both only for this account's alarms named with the stack's prefix.
 */
export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const conditions = fromOwnAlarms(this, props.alarmNamePrefix);
    const key = new kms.Key(this, "Key", {
      description: "Email Scout alarm topic encryption",
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "AllowCloudWatchAlarmsToUseTheKey",
        principals: [CLOUDWATCH],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        conditions,
      }),
    );
    this.topic = new sns.Topic(this, "Topic", {
      displayName: "Email Scout alarms",
      masterKey: key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "AllowCloudWatchAlarmsToPublish",
        principals: [CLOUDWATCH],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions,
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    new CfnOutput(scope, "AlarmTopicArn", {
      value: this.topic.topicArn,
      description: "SNS topic of every Email Scout alarm: subscribe your paging or chat integration",
    });
  }
}
