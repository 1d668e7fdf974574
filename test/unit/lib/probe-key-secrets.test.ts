import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { nagViolations, synthStack } from "../../support/synth-stack.ts";

/*
 * Per-target probe keys on AWS: a probe target's probe.keyFile names the Secrets Manager secret
 * of its own key ring. The prober (signs) and the correlator (checks) may read exactly the rings
 * in use: those secrets, and the stack's global one only while some probe target has none.
 */

const PER_TARGET_KEYS = join(import.meta.dirname, "fixtures", "per-target-keys.yaml");
const OWN_KEY_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout/keys/mail";
const LOGIN_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:scout/submission";

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
}

function secretReadsOf(template: ReturnType<typeof synthStack>["template"], name: string): unknown[] {
  const functions = template.findResources("AWS::Lambda::Function");
  const fnId = Object.keys(functions).find((id) => id.startsWith(`${name}Function`));
  const roleRef = functions[fnId ?? ""]?.Properties.Role["Fn::GetAtt"][0] as string;
  const statements = Object.values(template.findResources("AWS::IAM::Policy"))
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleRef))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
  return statements
    .filter((statement) => [statement.Action].flat().includes("secretsmanager:GetSecretValue"))
    .flatMap((statement) => [statement.Resource].flat());
}

describe("per-target probe key secrets", () => {
  let synthesized: ReturnType<typeof synthStack>;
  beforeAll(() => {
    synthesized = synthStack(PER_TARGET_KEYS);
  });

  it.each(["Prober", "Correlator"])(
    "%s reads the targets' own key secrets and the global one, nothing more",
    (name) => {
      const reads = secretReadsOf(synthesized.template, name);
      const loginReads = name === "Prober" ? [LOGIN_ARN, `${LOGIN_ARN}-??????`] : [];
      expect(reads).toHaveLength(3 + loginReads.length);
      expect(reads).toEqual(
        expect.arrayContaining([
          OWN_KEY_ARN,
          `${OWN_KEY_ARN}-??????`,
          { Ref: expect.stringMatching(/^SecretsProbeKeySecret\w+$/) },
          ...loginReads,
        ]),
      );
    },
  );

  it("grants the global secret to no one when every probe target has its own key", () => {
    const { template } = synthStack(join(import.meta.dirname, "fixtures", "own-keys-only.yaml"));
    for (const name of ["Prober", "Correlator"]) {
      const reads = secretReadsOf(template, name);
      expect(reads).not.toContainEqual({ Ref: expect.stringMatching(/ProbeKeySecret/) });
      expect(reads).toEqual(expect.arrayContaining([OWN_KEY_ARN, `${OWN_KEY_ARN}-??????`]));
    }
  });

  it("keeps cdk-nag clean", () => {
    const { app } = synthStack(PER_TARGET_KEYS, { nag: true });
    expect(nagViolations(app)).toEqual([]);
  });
});
