import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../core/config/config-error.ts";
import { loadStackConfig } from "../../../lib/config/deploy-config.ts";
import { proberMailPorts, targetProtocols } from "../../../lib/config/prober-ports.ts";
import { scheduleRate } from "../../../lib/config/schedule-rate.ts";
import { synthStack, TWO_TARGETS } from "../../support/synth-stack.ts";

const fixture = (name: string) => join(import.meta.dirname, "fixtures", name);
const repoRoot = join(import.meta.dirname, "..", "..", "..");

describe("bin/cdk-app.ts", () => {
  it("stops a synth with a bad config: the ConfigError message, exit 1, no stack trace", async () => {
    const run = promisify(execFile)(process.execPath, ["--import", "tsx", "bin/cdk-app.ts"], {
      cwd: repoRoot,
      // The CDK CLI hands -c values to the app this way.
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ config: fixture("unknown-key.yaml") }) },
      timeout: 60_000,
    });
    const failure = await run.then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(`${fixture("unknown-key.yaml")}: invalid configuration`);
    expect(failure?.stderr).toContain("aws.natGateway: unknown key");
    expect(failure?.stderr).not.toMatch(/^\s+at /m);
  });
});

describe("a stack pinned to an account and region", () => {
  it("synthesizes without lookups, its two zones taken from Fn::GetAZs at deploy time", () => {
    const { stack, template } = synthStack(fixture("pinned.yaml"));
    expect(stack.stackName).toBe("PinnedScout");
    expect(stack.account).toBe("123456789012");
    expect(stack.region).toBe("eu-west-1");
    const zones = Object.values(template.findResources("AWS::EC2::Subnet")).map(
      (s) => s.Properties.AvailabilityZone,
    );
    expect(zones).toContainEqual({ "Fn::Select": [0, { "Fn::GetAZs": "" }] });
    expect(zones).toContainEqual({ "Fn::Select": [1, { "Fn::GetAZs": "" }] });
    template.hasOutput("MxRecord", { Value: "10 inbound-smtp.eu-west-1.amazonaws.com" });
  });
});

describe("loadStackConfig", () => {
  it("refuses a probe sender outside the inbound domain, naming the key", () => {
    expect(() => loadStackConfig(fixture("from-elsewhere.yaml"))).toThrow(ConfigError);
    expect(() => loadStackConfig(fixture("from-elsewhere.yaml"))).toThrow(
      /outbound\.from: must be at the inbound domain scout-returns\.example\.net/,
    );
  });

  it("wants login passwords as Secrets Manager ARNs, not files", () => {
    expect(() => loadStackConfig(fixture("password-file.yaml"))).toThrow(
      /targets\[0\]\.endpoints\[0\]\.login\.passwordFile: on AWS this must be the ARN of a Secrets Manager secret/,
    );
  });

  it("names a missing file and how to pass another", () => {
    expect(() => loadStackConfig(fixture("nope.yaml"))).toThrow(
      /nope\.yaml: invalid configuration\n.*ENOENT.*-c config=/,
    );
  });
});

describe("schedule and ports", () => {
  it("rounds the interval up to whole minutes, at least one, and says when it did", () => {
    expect(scheduleRate(60)).toEqual({ minutes: 1 });
    expect(scheduleRate(300)).toEqual({ minutes: 5 });
    expect(scheduleRate(5)).toEqual({ minutes: 1, roundedFrom: 5 });
    expect(scheduleRate(90)).toEqual({ minutes: 2, roundedFrom: 90 });
  });

  it("opens every default mail port plus the ports endpoints name", () => {
    const config = loadStackConfig(TWO_TARGETS);
    expect(proberMailPorts(config)).toEqual([25, 110, 143, 465, 587, 993, 995, 2587, 10995]);
  });

  it("lists a target's protocols as the checks report them", () => {
    const [first, second] = loadStackConfig(TWO_TARGETS).targets;
    expect(first && targetProtocols(first)).toEqual(["smtp", "imap"]);
    expect(second && targetProtocols(second)).toEqual(["pop3"]);
  });
});
