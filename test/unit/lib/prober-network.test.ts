import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../../../lib/config/deploy-config.ts";
import { nagViolations, synthStack, TWO_TARGETS } from "../../support/synth-stack.ts";

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

/** The two-target fixture (two NAT gateways) with its aws block's `natGateways` line replaced by `lines`. */
function fixtureWith(lines: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "scout-network-")), "config.yaml");
  const text = readFileSync(TWO_TARGETS, "utf8").replace(/^ {2}natGateways: 2$/m, lines);
  writeFileSync(file, text);
  return file;
}

describe("the NAT gateway's Elastic IP", () => {
  it("is allocated by the stack and kept on delete when the config names none", () => {
    const eips = Object.values(template.findResources("AWS::EC2::EIP"));
    expect(eips).toHaveLength(2);
    for (const eip of eips) expect(eip.DeletionPolicy).toBe("Retain");
    const gateways = Object.values(template.findResources("AWS::EC2::NatGateway"));
    expect(gateways.map((gateway) => gateway.Properties.AllocationId["Fn::GetAtt"][1])).toEqual([
      "AllocationId",
      "AllocationId",
    ]);
  });

  it("is the one aws.natEipAllocationId names, so the port-25 approval survives a new deploy", () => {
    const { app, template: reusing } = synthStack(
      fixtureWith("  natGateways: 1\n  natEipAllocationId: eipalloc-0a1b2c3d4e5f60718"),
      { nag: true },
    );
    reusing.resourceCountIs("AWS::EC2::EIP", 0);
    reusing.resourceCountIs("AWS::EC2::NatGateway", 1);
    reusing.hasResourceProperties("AWS::EC2::NatGateway", { AllocationId: "eipalloc-0a1b2c3d4e5f60718" });
    reusing.hasOutput("NatElasticIpAllocationId", {
      Value: "eipalloc-0a1b2c3d4e5f60718",
      Description: Match.stringLikeRegexp("describe-addresses"),
    });
    expect(Object.keys(reusing.findOutputs("NatElasticIp1"))).toEqual([]);
    expect(nagViolations(app)).toEqual([]);
  });

  it("refuses an existing Elastic IP with two NAT gateways, naming the key", () => {
    expect(() =>
      loadStackConfig(fixtureWith("  natGateways: 2\n  natEipAllocationId: eipalloc-0a1b2c3d")),
    ).toThrow(
      /aws\.natEipAllocationId: is the Elastic IP of one NAT gateway: with natGateways 2, leave it out/,
    );
  });
});
