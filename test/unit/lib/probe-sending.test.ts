import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { synthStack, TWO_TARGETS } from "../../support/synth-stack.ts";

let template: Template;
beforeAll(() => {
  ({ template } = synthStack());
});

/** The two-target fixture with `extra` lines appended to its aws block (the file's last block). */
function fixtureWith(extra: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "scout-sending-")), "config.yaml");
  writeFileSync(file, `${readFileSync(TWO_TARGETS, "utf8").trimEnd()}\n${extra}\n`);
  return file;
}

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
}

function statementsWith(from: Template, action: string): { policy: string; statement: Statement }[] {
  return Object.entries(from.findResources("AWS::IAM::Policy")).flatMap(([policy, resource]) =>
    (resource.Properties.PolicyDocument.Statement as Statement[])
      .filter((statement) => [statement.Action].flat().includes(action))
      .map((statement) => ({ policy, statement })),
  );
}

/** An SES ARN in this stack's account and region, as the template writes it. */
const sesArn = (resource: string, ...tail: unknown[]) => ({
  "Fn::Join": [
    "",
    [
      "arn:",
      { Ref: "AWS::Partition" },
      ":ses:",
      { Ref: "AWS::Region" },
      ":",
      { Ref: "AWS::AccountId" },
      `:${resource}`,
      ...tail,
    ],
  ],
});

describe("probe sending", () => {
  it("sends with a configuration set whose suppression list is off, named to the prober", () => {
    const sets = template.findResources("AWS::SES::ConfigurationSet");
    expect(Object.values(sets).map((set) => set.Properties)).toEqual([
      { SuppressionOptions: { SuppressedReasons: [] } },
    ]);
    template.hasResourceProperties("AWS::Lambda::Function", {
      Description: Match.stringLikeRegexp("^Email Scout prober"),
      Environment: { Variables: Match.objectLike({ SES_CONFIGURATION_SET: { Ref: Object.keys(sets)[0] } }) },
    });
  });

  it("allows SendRawEmail on the domain identity and the configuration set, and GetSendQuota on * in a policy of its own", () => {
    const [send, ...moreSends] = statementsWith(template, "ses:SendRawEmail");
    expect(moreSends).toEqual([]);
    expect(send?.policy).toMatch(/^ProberRoleDefaultPolicy/);
    // CDK orders a statement's resources itself.
    const resources = [send?.statement.Resource].flat();
    expect(resources).toHaveLength(2);
    expect(resources).toEqual(
      expect.arrayContaining([
        sesArn("identity/", { Ref: expect.stringMatching(/^InboundMailIdentity/) }),
        sesArn("configuration-set/", { Ref: expect.stringMatching(/^ProbeSendingConfigurationSet/) }),
      ]),
    );
    const quota = statementsWith(template, "ses:GetSendQuota");
    expect(quota).toEqual([
      {
        policy: expect.stringMatching(/^ProbeSendingReadSendQuota/),
        statement: { Sid: "ReadSendQuota", Action: "ses:GetSendQuota", Effect: "Allow", Resource: "*" },
      },
    ]);
    const quotaPolicy = template.findResources("AWS::IAM::Policy")[quota[0]?.policy ?? ""];
    expect(quotaPolicy?.Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^ProberRole/) }]);
  });

  it("in the sandbox (aws.sesSandbox) also allows the identities of the probe addresses, and nothing more", () => {
    const { template: sandboxed } = synthStack(fixtureWith("  sesSandbox: true"));
    const [send] = statementsWith(sandboxed, "ses:SendRawEmail");
    const resources = [send?.statement.Resource].flat();
    expect(resources).toHaveLength(4);
    expect(resources).toEqual(
      expect.arrayContaining([sesArn("identity/probe@example.net"), sesArn("identity/example.net")]),
    );
  });

  it("uses SES's own MAIL FROM unless aws.mailFromSubdomain names one", () => {
    const identity = () => Object.values(template.findResources("AWS::SES::EmailIdentity"))[0];
    expect(identity()?.Properties.MailFromAttributes).toBeUndefined();
    expect(Object.keys(template.findOutputs("MailFrom*"))).toEqual([]);

    const { template: custom } = synthStack(fixtureWith("  mailFromSubdomain: bounce"));
    custom.hasResourceProperties("AWS::SES::EmailIdentity", {
      EmailIdentity: "scout-returns.example.net",
      // A missing MX falls back to amazonses.com instead of stopping the probes.
      MailFromAttributes: {
        MailFromDomain: "bounce.scout-returns.example.net",
        BehaviorOnMxFailure: "USE_DEFAULT_VALUE",
      },
    });
    custom.hasOutput("MailFromMxRecord", {
      Value: {
        "Fn::Join": [
          "",
          ["bounce.scout-returns.example.net MX 10 feedback-smtp.", { Ref: "AWS::Region" }, ".amazonses.com"],
        ],
      },
    });
    custom.hasOutput("MailFromSpfRecord", {
      Value: 'bounce.scout-returns.example.net TXT "v=spf1 include:amazonses.com ~all"',
    });
  });
});
