import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../../../lib/config/deploy-config.ts";
import { synthStack, TWO_TARGETS } from "../../support/synth-stack.ts";

let template: Template;
beforeAll(() => {
  ({ template } = synthStack());
});

/** The two-target fixture with `extra` lines appended to its aws block (the file's last block). */
function fixtureWith(extra: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "scout-capacity-")), "config.yaml");
  writeFileSync(file, `${readFileSync(TWO_TARGETS, "utf8").trimEnd()}\n${extra}\n`);
  return file;
}

function memoryOf(from: Template): Record<string, number> {
  const functions = from.findResources("AWS::Lambda::Function");
  return Object.fromEntries(
    Object.entries(functions)
      .filter(([id]) => /^(Prober|Correlator|Notifier)Function/.test(id))
      .map(([id, fn]) => [id.replace(/Function.*/, ""), fn.Properties.MemorySize as number]),
  );
}

describe("prober memory (aws.proberMemoryMb)", () => {
  it("is 512 MB unless the config says otherwise, like the other functions", () => {
    expect(memoryOf(template)).toEqual({ Prober: 512, Correlator: 512, Notifier: 512 });
  });

  it("follows the config, for the prober alone", () => {
    const { template: bigger } = synthStack(fixtureWith("  proberMemoryMb: 1769"));
    expect(memoryOf(bigger)).toEqual({ Prober: 1769, Correlator: 512, Notifier: 512 });
  });

  it("refuses sizes Lambda does not offer, naming the key", () => {
    expect(() => loadStackConfig(fixtureWith("  proberMemoryMb: 100"))).toThrow(/aws\.proberMemoryMb/);
    expect(() => loadStackConfig(fixtureWith("  proberMemoryMb: 20000"))).toThrow(/aws\.proberMemoryMb/);
    expect(() => loadStackConfig(fixtureWith("  proberMemoryMb: 512.5"))).toThrow(/aws\.proberMemoryMb/);
  });
});

describe("DynamoDB gateway endpoint", () => {
  it("routes the private subnets' DynamoDB traffic past the NAT gateway", () => {
    template.resourceCountIs("AWS::EC2::VPCEndpoint", 1);
    const [endpoint] = Object.values(template.findResources("AWS::EC2::VPCEndpoint"));
    expect(endpoint?.Properties.VpcEndpointType).toBe("Gateway");
    expect(JSON.stringify(endpoint?.Properties.ServiceName)).toMatch(/\.dynamodb"/);
    const routeTables = ((endpoint?.Properties.RouteTableIds ?? []) as { Ref: string }[])
      .map((ref) => ref.Ref)
      .sort();
    expect(routeTables).toEqual([
      expect.stringMatching(/PrivateSubnet1RouteTable/),
      expect.stringMatching(/PrivateSubnet2RouteTable/),
    ]);
  });

  it("needs no egress rule of its own: DynamoDB's prefix list is inside the one HTTPS rule", () => {
    const [group] = Object.values(template.findResources("AWS::EC2::SecurityGroup"));
    const https = ((group?.Properties.SecurityGroupEgress ?? []) as Record<string, unknown>[]).filter(
      (rule) => rule.FromPort === 443,
    );
    expect(https).toEqual([
      {
        CidrIp: "0.0.0.0/0",
        Description: expect.stringMatching(/DynamoDB by the gateway endpoint/),
        FromPort: 443,
        IpProtocol: "tcp",
        ToPort: 443,
      },
    ]);
  });
});
