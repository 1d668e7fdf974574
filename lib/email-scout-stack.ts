import {
  Annotations,
  type CfnElement,
  CfnOutput,
  Duration,
  Fn,
  Stack,
  type StackProps,
  Token,
  Validations,
} from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3n from "aws-cdk-lib/aws-s3-notifications";
import type { Construct } from "constructs";
import { probeFromAddress } from "../core/config/config-rules.ts";
import type { DeployConfig } from "../core/config/schema.ts";
import { parseResolverAddress } from "../core/dns/resolver-address.ts";
import { AWS_DEFAULTS } from "./config/aws-defaults.ts";
import { loginPasswordSecretArns, probeKeySecretArns, usesGlobalProbeKey } from "./config/deploy-config.ts";
import { AWS_API_PORT, proberMailPorts } from "./config/prober-ports.ts";
import { proberShardCount } from "./config/prober-shards.ts";
import { scheduleRate } from "./config/schedule-rate.ts";
import { type RegionSource, sesReceivingRegionWarning } from "./config/ses-receiving-regions.ts";
import { expectedReceives, notifierTimeoutSeconds } from "./config/webhook-delivery.ts";
import { AlarmTopic } from "./constructs/alarm-topic.ts";
import { EVENTS_MAX_RECEIVE_COUNT, EventsQueue } from "./constructs/events-queue.ts";
import { InboundMail } from "./constructs/inbound-mail.ts";
import { ProbeSending } from "./constructs/probe-sending.ts";
import { ProberNetwork } from "./constructs/prober-network.ts";
import { addProberSchedule } from "./constructs/prober-schedule.ts";
import { ReceiptRuleSetActivation } from "./constructs/receipt-rule-set-activation.ts";
import { RETURNS_PREFIX, ReturnsBucket } from "./constructs/returns-bucket.ts";
import { ScoutAlarms } from "./constructs/scout-alarms.ts";
import { ScoutDashboard } from "./constructs/scout-dashboard.ts";
import { ScoutFunction } from "./constructs/scout-function.ts";
import { ScoutSecrets } from "./constructs/scout-secrets.ts";
import { ScoutTables } from "./constructs/scout-tables.ts";
import { alarmNamePrefix } from "./monitoring/alarm-names.ts";
import { METRICS_NAMESPACE } from "./monitoring/scout-metrics.ts";
import { targetWatches } from "./monitoring/target-watch.ts";
import { acknowledgeArnWildcard } from "./nag-findings.ts";
import { addOperatorOutputs } from "./operator-outputs.ts";
import {
  batchWriteResults,
  holdWebhookEndpoints,
  listReturns,
  moveToDeadLetters,
  readLoginPasswords,
  readProbeKeys,
  readSecret,
  requeueEvents,
  sendEvents,
  tableAccess,
} from "./scout-permissions.ts";

export interface EmailScoutStackProps extends StackProps {
  readonly config: DeployConfig;
  /**
   * The region the CDK CLI deploys an environment-agnostic stack to (its CDK_DEFAULT_REGION):
   * checked against the SES email-receiving regions when aws.region is left out.
   */
  readonly cliRegion?: string;
}

const COMMON_ENV = {
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};

/**
 * The correlator parses mail with mailparser, behind a dynamic import: kept out of its main
 * bundle (more than half of it), a cold start that has no mail to parse yet does not load it.
 */
export const CORRELATOR_LAZY_MODULES = ["mailparser"] as const;

/** Email Scout on AWS: see the "Shape on AWS" in the design and docs/aws.md. */
export class EmailScoutStack extends Stack {
  constructor(scope: Construct, id: string, props: EmailScoutStackProps) {
    super(scope, id, props);
    const { config } = props;
    const aws = { ...AWS_DEFAULTS, ...config.aws };
    const from = probeFromAddress(config);
    this.warnOfRegionWithoutReceiving(props.cliRegion);

    const tables = new ScoutTables(this, "Tables");
    const secrets = new ScoutSecrets(this, "Secrets");
    const returns = new ReturnsBucket(this, "Returns", { retentionDays: aws.retentionDays });
    const inbound = new InboundMail(this, "InboundMail", {
      domain: config.inbound.domain,
      bucket: returns.bucket,
      objectKeyPrefix: RETURNS_PREFIX,
      ruleSetName: `${this.stackName}-returns`,
      ...(aws.hostedZoneId && aws.hostedZoneName
        ? { hostedZone: { id: aws.hostedZoneId, name: aws.hostedZoneName } }
        : {}),
      ...(aws.mailFromSubdomain === undefined ? {} : { mailFromSubdomain: aws.mailFromSubdomain }),
    });
    const sending = new ProbeSending(this, "ProbeSending", {
      identityArn: inbound.identity.emailIdentityArn,
      from,
      domain: config.inbound.domain,
      // In the sandbox SES also authorizes each send against the recipient's identity.
      ...(aws.sesSandbox ? { sandboxRecipients: probeAddresses(config) } : {}),
    });
    // A stack that publishes its own DNS records is set up hands-off: it activates its rule set too.
    if (aws.activateReceiptRuleSet ?? aws.hostedZoneId !== undefined) {
      new ReceiptRuleSetActivation(this, "ReceiptRuleSetActivation", {
        ruleSet: inbound.ruleSet,
        ruleSetName: inbound.ruleSet.receiptRuleSetName,
        domain: config.inbound.domain,
        config,
        logRetentionDays: aws.logRetentionDays,
        environment: { POWERTOOLS_SERVICE_NAME: "email-scout-receipt-rule-set", ...COMMON_ENV },
      });
    }
    const network = new ProberNetwork(this, "Network", {
      natGateways: aws.natGateways,
      mailPorts: proberMailPorts(config),
      awsApiPort: AWS_API_PORT,
      logRetentionDays: aws.logRetentionDays,
      ...(aws.natEipAllocationId ? { existingEipAllocationId: aws.natEipAllocationId } : {}),
      ...(config.posture.resolver ? { postureResolver: parseResolverAddress(config.posture.resolver) } : {}),
    });

    // The notifier posts to webhook URLs anywhere on the internet over HTTPS: outside the VPC it
    // needs no NAT, and it opens no mail ports.
    const notifierTimeout = Duration.seconds(notifierTimeoutSeconds(config));
    const eventsQueue = new EventsQueue(this, "EventsQueue", { consumerTimeout: notifierTimeout });
    this.warnOfShortRetries(config.webhooks.maxAgeSeconds);
    const notifier = new ScoutFunction(this, "Notifier", {
      entry: "lambdas/handlers/notifier.ts",
      description: "Email Scout notifier: signed webhook deliveries of events",
      config,
      timeout: notifierTimeout,
      logRetentionDays: aws.logRetentionDays,
      environment: {
        WEBHOOK_SECRET_ARN: secrets.webhookSecrets.secretArn,
        EVENTS_QUEUE_URL: eventsQueue.queue.queueUrl,
        EVENTS_DLQ_URL: eventsQueue.deadLetterQueue.queueUrl,
        WEBHOOK_HOLDS_TABLE: tables.webhookHolds.tableName,
        POWERTOOLS_SERVICE_NAME: "email-scout-notifier",
        ...COMMON_ENV,
      },
    });
    notifier.addToRolePolicy(readSecret("ReadWebhookSecrets", secrets.webhookSecrets.secretArn));
    notifier.addToRolePolicy(moveToDeadLetters(eventsQueue.deadLetterQueue.queueArn));
    notifier.addToRolePolicy(holdWebhookEndpoints(tables.webhookHolds.tableArn));
    notifier.addToRolePolicy(requeueEvents(eventsQueue.queue.queueArn));
    notifier.function.addEventSource(
      new SqsEventSource(eventsQueue.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    // Each check ends within its overall deadline (30 s by default) and they run
    // schedule.checkConcurrency at a time; 5 minutes leaves room for ten such waves, the sweep
    // of overdue probes and the SES sends. The probe's own deadline is not waited for here.
    const prober = new ScoutFunction(this, "Prober", {
      entry: "lambdas/handlers/prober.ts",
      description: "Email Scout prober: service checks, round-trip probes, sweep of overdue probes",
      config,
      timeout: Duration.minutes(5),
      // CPU comes with memory: see aws.proberMemoryMb in docs/aws.md.
      memorySize: aws.proberMemoryMb,
      logRetentionDays: aws.logRetentionDays,
      asyncDeadLetterQueue: true,
      // A failed run is not repeated at once (it would send its probes again): the next tick of
      // the schedule is the retry. No reserved concurrency: new accounts have too little
      // concurrency to reserve any, and a run overlaps the next only if it outlasts the interval.
      asyncRetryAttempts: 0,
      vpc: {
        vpc: network.vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [network.securityGroup],
      },
      environment: {
        PROBES_TABLE: tables.probes.tableName,
        RESULTS_TABLE: tables.results.tableName,
        PROBE_KEY_SECRET_ARN: secrets.probeKey.secretArn,
        EVENTS_QUEUE_URL: eventsQueue.queue.queueUrl,
        SES_FROM: from,
        SES_CONFIGURATION_SET: sending.configurationSet.configurationSetName,
        POWERTOOLS_SERVICE_NAME: "email-scout-prober",
        ...COMMON_ENV,
      },
    });
    prober.addToRolePolicy(tableAccess(tables.arnsWithIndexes));
    prober.addToRolePolicy(batchWriteResults(tables.results.tableArn));
    sending.grantSend(prober.role);
    // Each probe target's own key ring, and the global one only when some target uses it.
    const probeKeyArns = [
      ...(usesGlobalProbeKey(config) ? [secrets.probeKey.secretArn] : []),
      ...probeKeySecretArns(config).flatMap((arn) => [arn, `${arn}-??????`]),
    ];
    if (probeKeyArns.length > 0) prober.addToRolePolicy(readProbeKeys(probeKeyArns));
    prober.addToRolePolicy(sendEvents(eventsQueue.queue.queueArn));
    const loginSecrets = loginPasswordSecretArns(config);
    if (loginSecrets.length > 0) prober.addToRolePolicy(readLoginPasswords(loginSecrets));

    const rate = scheduleRate(config.schedule.intervalSeconds);
    const shards = proberShardCount(config);
    addProberSchedule(this, {
      prober: prober.function,
      minutes: rate.minutes,
      shards,
      enabled: aws.scheduleEnabled,
    });
    if (!aws.scheduleEnabled) {
      Annotations.of(this).addWarningV2(
        "email-scout:schedule-disabled",
        "aws.scheduleEnabled is false: the prober's schedule is created disabled and the alarms notify no one. " +
          "Once the probe key, the webhook secrets, the SES identity (DKIM), the MX record and the active receipt rule set are in place, " +
          'set it to true and deploy again (docs/aws.md, "First deploy: the schedule off")',
      );
    }
    new CfnOutput(this, "ProberShards", {
      value: String(shards),
      description: "Prober invocations per run, each with its share of the targets (aws.proberShards)",
    });
    new CfnOutput(this, "ProberScheduleRate", {
      value: `rate(${rate.minutes} minute${rate.minutes === 1 ? "" : "s"})`,
      description: [
        rate.roundedFrom === undefined
          ? "How often the prober runs (schedule.intervalSeconds)"
          : `schedule.intervalSeconds ${rate.roundedFrom} rounded up to whole minutes (EventBridge's unit)`,
        ...(aws.scheduleEnabled ? [] : ["; the schedule is disabled (aws.scheduleEnabled: false)"]),
      ].join(""),
    });
    if (rate.roundedFrom !== undefined) {
      Annotations.of(this).addWarningV2(
        "email-scout:schedule-rounded",
        `schedule.intervalSeconds ${rate.roundedFrom} is not a whole number of minutes: the prober runs every ${rate.minutes} minute(s) on AWS, and its check alarms count periods of that length`,
      );
    }

    // The correlator only reads S3 and DynamoDB and queues events, all through AWS APIs: outside
    // the VPC it opens no mail ports and costs no NAT traffic.
    const correlator = new ScoutFunction(this, "Correlator", {
      entry: "lambdas/handlers/correlator.ts",
      description: "Email Scout correlator: matches returned mail in S3 to its probe",
      config,
      timeout: Duration.minutes(1),
      logRetentionDays: aws.logRetentionDays,
      asyncDeadLetterQueue: true,
      lazyModules: CORRELATOR_LAZY_MODULES,
      environment: {
        PROBES_TABLE: tables.probes.tableName,
        RESULTS_TABLE: tables.results.tableName,
        RETURNS_BUCKET: returns.bucket.bucketName,
        PROBE_KEY_SECRET_ARN: secrets.probeKey.secretArn,
        EVENTS_QUEUE_URL: eventsQueue.queue.queueUrl,
        POWERTOOLS_SERVICE_NAME: "email-scout-correlator",
        ...COMMON_ENV,
      },
    });
    correlator.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "ReadReturns",
        actions: ["s3:GetObject"],
        resources: [returns.bucket.arnForObjects(`${RETURNS_PREFIX}*`)],
      }),
    );
    correlator.addToRolePolicy(listReturns(returns.bucket.bucketArn, RETURNS_PREFIX));
    correlator.addToRolePolicy(tableAccess(tables.arnsWithIndexes));
    acknowledgeArnWildcard(
      correlator.role,
      returns.bucket.node.defaultChild as s3.CfnBucket,
      `/${RETURNS_PREFIX}*`,
      "The correlator reads returned messages: any object under returns/, whose keys SES chooses.",
    );
    if (probeKeyArns.length > 0) correlator.addToRolePolicy(readProbeKeys(probeKeyArns));
    correlator.addToRolePolicy(sendEvents(eventsQueue.queue.queueArn));
    returns.bucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.LambdaDestination(correlator.function),
      { prefix: RETURNS_PREFIX },
    );
    this.acknowledgeNotificationsHandler();

    for (const fn of [prober, correlator]) {
      for (const table of [tables.probes, tables.results]) {
        acknowledgeArnWildcard(
          fn.role,
          table.node.defaultChild as CfnElement,
          "/index/*",
          "Queries on the table's own global secondary indexes (byTarget, openByDeadline, unannouncedByTime); no other table.",
        );
      }
    }

    const functions = {
      Prober: prober.function,
      Correlator: correlator.function,
      Notifier: notifier.function,
    };
    const alarmNames = alarmNamePrefix(this.stackName);
    const topic = new AlarmTopic(this, "Alarms", {
      alarmNamePrefix: alarmNames,
      ...(aws.alarmEmail ? { alarmEmail: aws.alarmEmail } : {}),
    });
    const watches = targetWatches(config);
    new ScoutAlarms(this, "AlarmSet", {
      targets: watches,
      perTargetAlarmsUpTo: aws.perTargetAlarmsUpTo,
      proberShards: shards,
      dashboardName: this.stackName,
      functions,
      deadLetterQueues: {
        EventsDeadLetterQueue: eventsQueue.deadLetterQueue,
        ...(prober.deadLetterQueue ? { ProberDeadLetterQueue: prober.deadLetterQueue } : {}),
        ...(correlator.deadLetterQueue ? { CorrelatorDeadLetterQueue: correlator.deadLetterQueue } : {}),
      },
      deadLetterAdvice: {
        EventsDeadLetterQueue:
          "webhook events the notifier could not deliver (see each message's deadLetterReason, lastStatus and lastError attributes). " +
          `Look: aws sqs receive-message --queue-url ${eventsQueue.deadLetterQueue.queueUrl} --attribute-names All --message-attribute-names All --visibility-timeout 0. ` +
          `After fixing the cause, redrive: aws sqs start-message-move-task --source-arn ${eventsQueue.deadLetterQueue.queueArn} --destination-arn ${eventsQueue.queue.queueArn}`,
      },
      prober: prober.function,
      scheduleMinutes: rate.minutes,
      topic: topic.topic,
      alarmNamePrefix: alarmNames,
      actionsEnabled: aws.scheduleEnabled,
    });
    new ScoutDashboard(this, "Dashboard", {
      dashboardName: this.stackName,
      targets: watches,
      perTargetAlarmsUpTo: aws.perTargetAlarmsUpTo,
      functions,
      eventsDeadLetterQueue: eventsQueue.deadLetterQueue,
    });

    addOperatorOutputs(this, {
      probeKeySecret: secrets.probeKey,
      webhookSecrets: secrets.webhookSecrets,
      returnsBucket: returns.bucket,
      prober: prober.function,
      probesTable: tables.probes,
      webhookHoldsTable: tables.webhookHolds,
      correlator: correlator.function,
      notifier: notifier.function,
      eventsQueue: eventsQueue.queue,
      eventsDeadLetterQueue: eventsQueue.deadLetterQueue,
    });
  }

  /**
   * SQS parks a message after EVENTS_MAX_RECEIVE_COUNT receives whatever its age: a maxAgeSeconds
   * needing more attempts than that (with room for jitter) would end retries early.
   */
  private warnOfShortRetries(maxAgeSeconds: number): void {
    const needed = expectedReceives(maxAgeSeconds);
    if (needed * 2 <= EVENTS_MAX_RECEIVE_COUNT) return;
    Annotations.of(this).addWarningV2(
      "email-scout:webhook-retries-capped",
      `webhooks.maxAgeSeconds ${maxAgeSeconds} needs about ${needed} delivery attempts for a failing endpoint; ` +
        `SQS moves an event to the dead-letter queue after ${EVENTS_MAX_RECEIVE_COUNT} receives, which may come first`,
    );
  }

  /**
   * A region where SES receives no email cannot take the returns. Checked for a pinned region, or
   * for the one the CDK CLI deploys an environment-agnostic stack to; a warning, not an error,
   * since AWS adds receiving regions after the list was written.
   */
  private warnOfRegionWithoutReceiving(cliRegion: string | undefined): void {
    const pinned = !Token.isUnresolved(this.region);
    const region = pinned ? this.region : cliRegion;
    if (region === undefined) return;
    const source: RegionSource = pinned ? "aws.region" : "CDK_DEFAULT_REGION";
    const warning = sesReceivingRegionWarning(region, source);
    if (warning !== undefined) Annotations.of(this).addWarningV2("email-scout:ses-receiving-region", warning);
  }

  /**
   * Two zones without a lookup: Fn::GetAZs resolves at deploy time, so an environment-specific
   * stack needs no credentials at synth either.
   */
  override get availabilityZones(): string[] {
    return [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  }

  /** The singleton Lambda that CDK uses to configure S3 notifications; its code and role are CDK's. */
  private acknowledgeNotificationsHandler(): void {
    const handler = this.node.tryFindChild("BucketNotificationsHandler050a0587b7544547bf325f094a3db834");
    if (!handler) return;
    Validations.of(handler).acknowledge({
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      reason:
        "CDK's bucket-notifications handler runs only during deployment; its role uses AWSLambdaBasicExecutionRole as CDK defines it.",
    });
  }
}

/** The probe targets' addresses. */
function probeAddresses(config: DeployConfig): string[] {
  return config.targets.flatMap((target) => (target.probe ? [target.probe.to] : []));
}
