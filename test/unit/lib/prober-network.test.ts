import type { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { synthStack } from "../../support/synth-stack.ts";

let template: Template;
beforeAll(() => {
  ({ template } = synthStack());
});

interface Resource {
  readonly Properties: Record<string, unknown>;
  readonly DependsOn?: string[];
}

/** The logical id and resource of the one Lambda function whose logical id starts with `name`. */
function lambdaFunction(from: Template, name: string): [string, Resource] {
  const matches = Object.entries(from.findResources("AWS::Lambda::Function")).filter(([id]) =>
    id.startsWith(`${name}Function`),
  );
  expect(matches).toHaveLength(1);
  return matches[0] as [string, Resource];
}

/** Logical ids of the IAM policies attached to `roleId` that allow `action`. */
function policiesAllowing(from: Template, roleId: string, action: string): string[] {
  return Object.entries(from.findResources("AWS::IAM::Policy"))
    .filter(([, policy]) =>
      (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
    )
    .filter(([, policy]) =>
      (policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).some((statement) =>
        [statement.Action].flat().includes(action),
      ),
    )
    .map(([id]) => id);
}

describe("the prober in the VPC", () => {
  it("is created after, and deleted before, the policy that lets Lambda make its network interfaces", () => {
    const [, prober] = lambdaFunction(template, "Prober");
    const roleId = (prober.Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    const granting = policiesAllowing(template, roleId, "ec2:CreateNetworkInterface");
    expect(granting).toHaveLength(1);
    // Not through the routes to the NAT gateway, which the function also waits for today: directly.
    expect(prober.DependsOn).toEqual(expect.arrayContaining(granting));
    for (const action of ["ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"]) {
      expect(policiesAllowing(template, roleId, action)).toEqual(granting);
    }
  });
});
