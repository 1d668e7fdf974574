import { type CfnElement, Stack, Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/**
 * Acknowledges cdk-nag's wildcard finding for one resource ARN pattern, e.g. a table's `/index/*`:
 * cdk-nag names it by the resource's logical id, `AwsSolutions-IAM5[Resource::<Id.Arn>/index/*]`.
 */
export function acknowledgeArnWildcard(
  scope: IConstruct,
  resource: CfnElement,
  arnSuffix: string,
  reason: string,
): void {
  const logicalId = Stack.of(resource).getLogicalId(resource);
  Validations.of(scope).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>${arnSuffix}]`,
    reason,
  });
}
