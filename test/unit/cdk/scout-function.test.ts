import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Duration, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDeployConfig } from "../../../lib/config/load-deploy-config.ts";
import { retentionFor, ScoutFunction, shellQuote } from "../../../lib/constructs/scout-function.ts";
import { TWO_TARGETS } from "./synth-stack.ts";

const config = loadDeployConfig(TWO_TARGETS);
let template: Template;
let bundleDir: string;

// One real esbuild bundle (about a second): the other CDK tests skip bundling.
beforeAll(() => {
  const outdir = mkdtempSync(join(tmpdir(), "scout-fn-test-"));
  const app = new App({ outdir, builtinCloudFormationValidation: false });
  const stack = new Stack(app, "FunctionTest");
  new ScoutFunction(stack, "Sample", {
    entry: join(import.meta.dirname, "fixtures", "handler-with-externals.ts"),
    description: "Email Scout sample",
    config,
    timeout: Duration.seconds(42),
    logRetentionDays: 10,
    asyncDeadLetterQueue: true,
    environment: { SAMPLE: "1" },
  });
  template = Template.fromStack(stack);
  const assets = readdirSync(outdir).filter((name) => name.startsWith("asset."));
  expect(assets).toHaveLength(1);
  bundleDir = join(outdir, assets[0] as string);
});

describe("ScoutFunction", () => {
  it("sets the Lambda defaults: newest Node runtime, ARM, 512 MB, tracing, source maps", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs24.x",
      Architectures: ["arm64"],
      MemorySize: 512,
      Timeout: 42,
      Handler: "index.handler",
      TracingConfig: { Mode: "Active" },
      Environment: { Variables: { NODE_OPTIONS: "--enable-source-maps", SAMPLE: "1" } },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp("^SampleLogs") } },
      DeadLetterConfig: {
        TargetArn: { "Fn::GetAtt": [Match.stringLikeRegexp("SampleAsyncDeadLetterQueue"), "Arn"] },
      },
    });
  });

  it("makes its log group itself, with the nearest allowed retention at or above the asked one", () => {
    template.resourceCountIs("AWS::Logs::LogGroup", 1);
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 14 });
    // No LogRetention custom resource (another Lambda) is needed for that.
    template.resourceCountIs("Custom::LogRetention", 0);
  });

  it("ships the validated deploy config as scout-config.json beside the ESM handler", () => {
    expect(readdirSync(bundleDir).sort()).toEqual(["index.mjs", "index.mjs.map", "scout-config.json"]);
    const shipped = JSON.parse(readFileSync(join(bundleDir, "scout-config.json"), "utf8"));
    expect(shipped).toEqual(JSON.parse(JSON.stringify(config)));
    expect(shipped.targets.map((t: { id: string }) => t.id)).toEqual(["mail.example.net", "pop-only"]);
  });

  it("leaves the AWS SDK and better-sqlite3 out of the bundle", () => {
    const code = readFileSync(join(bundleDir, "index.mjs"), "utf8");
    expect(code).toMatch(/from\s*"@aws-sdk\/client-s3"/);
    expect(code).toMatch(/from\s*"better-sqlite3"/);
    expect(code).toContain("createRequire");
    expect(code.length).toBeLessThan(20_000);
    expect(existsSync(join(bundleDir, "node_modules"))).toBe(false);
  });
});

describe("helpers", () => {
  it("quotes paths for the bundling shell, single quotes included", () => {
    expect(shellQuote("/tmp/a b/c")).toBe("'/tmp/a b/c'");
    expect(shellQuote("/tmp/it's")).toBe("'/tmp/it'\\''s'");
  });

  it("rounds log retention up to a value CloudWatch Logs accepts", () => {
    expect(retentionFor(1)).toBe(1);
    expect(retentionFor(7)).toBe(7);
    expect(retentionFor(8)).toBe(14);
    expect(retentionFor(31)).toBe(60);
    expect(retentionFor(3650)).toBe(3653);
  });
});
