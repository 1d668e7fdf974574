import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../../../lib/config/deploy-config.ts";
import { ACTIVE_RULE_SET_RESOURCE_TYPE } from "../../../lib/constructs/receipt-rule-set-activation.ts";
import { nagViolations, synthStack } from "../../support/synth-stack.ts";

const HOSTED_ZONE = join(import.meta.dirname, "fixtures", "hosted-zone.yaml");
const ZONE_ID = "Z0123456789ABCDEFGHIJ";

let plain: Template;
let zoned: Template;
let zonedViolations: unknown[];
beforeAll(() => {
  ({ template: plain } = synthStack());
  const built = synthStack(HOSTED_ZONE, { nag: true });
  zoned = built.template;
  zonedViolations = nagViolations(built.app);
});

/** A config file made from the hosted-zone fixture's text by `edit`. */
function hostedZoneEdited(edit: (text: string) => string): string {
  const file = join(mkdtempSync(join(tmpdir(), "scout-dns-")), "config.yaml");
  writeFileSync(file, edit(readFileSync(HOSTED_ZONE, "utf8")));
  return file;
}

/** The hosted-zone fixture with `lines` added to its aws block (the file's last block). */
const hostedZoneWith = (lines: string) => hostedZoneEdited((text) => `${text.trimEnd()}\n${lines}\n`);

function recordSets(from: Template, type: string) {
  return Object.values(from.findResources("AWS::Route53::RecordSet")).filter(
    (record) => record.Properties.Type === type,
  );
}

describe("DNS records in a hosted zone (aws.hostedZoneId, aws.hostedZoneName)", () => {
  it("are left to the operator when the config names no zone", () => {
    plain.resourceCountIs("AWS::Route53::RecordSet", 0);
    plain.resourceCountIs(ACTIVE_RULE_SET_RESOURCE_TYPE, 0);
    plain.hasOutput("MxRecord", { Description: Match.stringLikeRegexp("^Publish as the MX record") });
  });

  it("publish the identity's three DKIM CNAMEs in the zone", () => {
    const cnames = recordSets(zoned, "CNAME");
    expect(cnames).toHaveLength(3);
    cnames.forEach((record, index) => {
      expect(record.Properties).toEqual({
        HostedZoneId: ZONE_ID,
        Type: "CNAME",
        Name: {
          "Fn::GetAtt": [expect.stringMatching(/^InboundMailIdentity/), `DkimDNSTokenName${index + 1}`],
        },
        ResourceRecords: [
          { "Fn::GetAtt": [expect.stringMatching(/^InboundMailIdentity/), `DkimDNSTokenValue${index + 1}`] },
        ],
        TTL: "1800",
      });
    });
    // The identity is the inbound domain, a subdomain of the zone, not the zone's own name.
    zoned.hasResourceProperties("AWS::SES::EmailIdentity", { EmailIdentity: "scout-returns.example.net" });
  });

  it("publish the inbound domain's MX, priority 10, to SES's inbound endpoint in the stack's region", () => {
    expect(recordSets(zoned, "MX").map((record) => record.Properties)).toEqual([
      {
        HostedZoneId: ZONE_ID,
        Name: "scout-returns.example.net.",
        Type: "MX",
        ResourceRecords: [
          { "Fn::Join": ["", ["10 inbound-smtp.", { Ref: "AWS::Region" }, ".amazonaws.com"]] },
        ],
        TTL: "1800",
      },
    ]);
    zoned.hasOutput("MxRecord", {
      Description: Match.stringLikeRegexp("published in the hosted zone example.net"),
    });
  });

  it("pass cdk-nag", () => {
    expect(zonedViolations).toEqual([]);
  });

  it("need both keys, and a zone that holds the inbound domain", () => {
    const withoutName = hostedZoneEdited((text) => text.replace(/^ {2}hostedZoneName: .*\n/m, ""));
    expect(() => loadStackConfig(withoutName)).toThrow(
      /aws\.hostedZoneName: is required with the other of hostedZoneId and hostedZoneName/,
    );
    const elsewhere = hostedZoneEdited((text) =>
      text.replace("hostedZoneName: example.net", "hostedZoneName: example.org"),
    );
    expect(() => loadStackConfig(elsewhere)).toThrow(
      /aws\.hostedZoneName: must be the inbound domain scout-returns\.example\.net or a parent of it/,
    );
    // A zone whose name merely ends like the domain does not hold it.
    const suffixOnly = hostedZoneEdited((text) =>
      text.replace("hostedZoneName: example.net", "hostedZoneName: returns.example.net"),
    );
    expect(() => loadStackConfig(suffixOnly)).toThrow(/aws\.hostedZoneName: must be the inbound domain/);
  });
});

describe("the receipt rule set's activation (aws.activateReceiptRuleSet)", () => {
  function activation(from: Template) {
    const resources = Object.entries(from.findResources(ACTIVE_RULE_SET_RESOURCE_TYPE));
    expect(resources).toHaveLength(1);
    return resources[0] as [string, { Properties: Record<string, unknown>; DependsOn?: string[] }];
  }

  it("comes with a hosted zone: a custom resource naming the stack's rule set, after the set and its rule", () => {
    const [, resource] = activation(zoned);
    expect(resource.Properties).toEqual({
      ServiceToken: {
        "Fn::GetAtt": [expect.stringMatching(/^ReceiptRuleSetActivationHandlerFunction/), "Arn"],
      },
      RuleSetName: { Ref: expect.stringMatching(/^InboundMailRuleSet/) },
      Domain: "scout-returns.example.net",
      Region: { Ref: "AWS::Region" },
    });
    const dependsOn = resource.DependsOn ?? [];
    expect(dependsOn).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^InboundMailRuleSetStoreReturns/),
        expect.stringMatching(/^ReceiptRuleSetActivationActiveRuleSet/),
      ]),
    );
  });

  it("lets its function read and set the active rule set, and nothing else of SES", () => {
    const [, resource] = activation(zoned);
    const policyId = (resource.DependsOn ?? []).find((id) =>
      id.startsWith("ReceiptRuleSetActivationActiveRuleSet"),
    );
    const policy = zoned.findResources("AWS::IAM::Policy")[policyId ?? ""];
    expect(policy?.Properties.PolicyDocument.Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["ses:DescribeActiveReceiptRuleSet", "ses:SetActiveReceiptRuleSet"],
        Resource: "*",
      },
    ]);
    expect(policy?.Properties.Roles).toEqual([
      { Ref: expect.stringMatching(/^ReceiptRuleSetActivationHandlerRole/) },
    ]);
  });

  it("can be turned off with a zone, and on without one", () => {
    const { template: recordsOnly } = synthStack(hostedZoneWith("  activateReceiptRuleSet: false"));
    recordsOnly.resourceCountIs(ACTIVE_RULE_SET_RESOURCE_TYPE, 0);
    expect(recordSets(recordsOnly, "MX")).toHaveLength(1);

    const noZone = hostedZoneEdited(
      (text) =>
        `${text.replace(/^ {2}hostedZone(Id|Name): .*\n/gm, "").trimEnd()}\n  activateReceiptRuleSet: true\n`,
    );
    const { template: activationOnly } = synthStack(noZone);
    activation(activationOnly);
    activationOnly.resourceCountIs("AWS::Route53::RecordSet", 0);
  });
});
