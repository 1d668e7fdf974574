import { ArnFormat, Stack } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/**
 * Every alarm of the stack is named `<stack name>-<what it watches>`: one ARN pattern then covers
 * them all, and the alarm topic and its key let CloudWatch act for these alarms and no others.
 */
export function alarmNamePrefix(stackName: string): string {
  return `${stackName}-`;
}

/** arn:<partition>:cloudwatch:<region>:<account>:alarm:<prefix>*, for aws:SourceArn conditions. */
export function alarmArnPattern(scope: IConstruct, prefix: string): string {
  return Stack.of(scope).formatArn({
    service: "cloudwatch",
    resource: "alarm",
    resourceName: `${prefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * The conditions under which the CloudWatch service principal may publish to the alarm topic or
 * use its key: for this account's alarms of this stack only (the confused-deputy guard AWS
 * recommends for service principals).
 */
export function fromOwnAlarms(scope: IConstruct, prefix: string): Record<string, Record<string, string>> {
  return {
    StringEquals: { "aws:SourceAccount": Stack.of(scope).account },
    ArnLike: { "aws:SourceArn": alarmArnPattern(scope, prefix) },
  };
}
