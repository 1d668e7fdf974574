import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { synthStack, TWO_TARGETS } from "../../support/synth-stack.ts";

/*
 * The posture of a target's domain in the stack: the prober may reach a resolver the config
 * names (UDP and TCP, that address and port only), and a target with a domain gets a posture
 * alarm and a dashboard graph, both one Metrics Insights query over whatever checks run.
 */

interface EgressRule {
  readonly IpProtocol: string;
  readonly FromPort: number;
  readonly ToPort: number;
  readonly CidrIp?: string;
  readonly CidrIpv6?: string;
}

/** The two-target fixture with `domain:` on its first target and `extra` appended (top-level keys). */
function fixture(extra = ""): string {
  const text = readFileSync(TWO_TARGETS, "utf8").replace(
    "  - id: mail.example.net\n",
    "  - id: mail.example.net\n    domain: example.net\n",
  );
  const file = join(mkdtempSync(join(tmpdir(), "scout-posture-stack-")), "config.yaml");
  writeFileSync(file, `${text}${extra}`);
  return file;
}

function egressOf(template: Template): EgressRule[] {
  const [group] = Object.values(template.findResources("AWS::EC2::SecurityGroup"));
  return (group?.Properties.SecurityGroupEgress ?? []) as EgressRule[];
}

describe("a configured posture resolver", () => {
  it("is reached over UDP and TCP on its port, at its address only", () => {
    const { template } = synthStack(fixture("posture:\n  resolver: 192.0.2.53:5353\n"));
    const dns = egressOf(template).filter((rule) => rule.FromPort === 5353);
    expect(dns.map((rule) => [rule.IpProtocol, rule.CidrIp, rule.ToPort]).sort()).toEqual([
      ["tcp", "192.0.2.53/32", 5353],
      ["udp", "192.0.2.53/32", 5353],
    ]);
  });

  it("without one, no DNS rule: the VPC's resolver is not filtered by security groups", () => {
    const { template } = synthStack(fixture());
    expect(egressOf(template).filter((rule) => rule.IpProtocol === "udp" || rule.FromPort === 53)).toEqual(
      [],
    );
  });
});

describe("a target with a domain", () => {
  let alarms: Record<string, unknown>[];
  let dashboardBody: string;
  beforeAll(() => {
    const { template } = synthStack(fixture());
    alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm")).map(
      (alarm) => alarm.Properties as Record<string, unknown>,
    );
    dashboardBody = JSON.stringify(
      Object.values(template.findResources("AWS::CloudWatch::Dashboard"))[0]?.Properties.DashboardBody,
    );
  });

  it("has one posture alarm, over every posture check of that target, that keeps its state between runs", () => {
    const posture = alarms.filter((alarm) => String(alarm.AlarmName).includes("Posture"));
    expect(posture).toHaveLength(1);
    expect(posture[0]).toMatchObject({
      AlarmName: "ScoutTest-Target-mail.example.net-PostureFailed",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "ignore",
      Metrics: [
        {
          Expression:
            "SELECT MAX(PostureFailed) FROM SCHEMA(\"EmailScout\", Check, Target) WHERE Target = 'mail.example.net'",
          Period: 3600,
        },
      ],
    });
    expect(String(posture[0]?.AlarmDescription)).toContain("email-scout posture example.net");
  });

  it("has a dashboard graph of its posture by check; the target without a domain has none", () => {
    expect(dashboardBody).toContain(
      "SELECT MAX(PostureStatus) FROM SCHEMA(\\\\\\\"EmailScout\\\\\\\", Check, Target) WHERE Target = 'mail.example.net' GROUP BY Check",
    );
    expect(dashboardBody).toContain("mail.example.net: DNS posture of example.net by check");
    expect(dashboardBody).not.toContain("pop-only: DNS posture");
  });
});
