import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { App, Duration, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { DEPLOY_CONFIG_VERSION, readDeployConfigFile } from "../../../lambdas/runtime/deploy-config-file.ts";
import { loadStackConfig } from "../../../lib/config/deploy-config.ts";
import {
  lazyModuleFiles,
  retentionFor,
  SCOUT_BUNDLING,
  ScoutFunction,
  shellQuote,
} from "../../../lib/constructs/scout-function.ts";
import { TWO_TARGETS } from "../../support/synth-stack.ts";

const config = loadStackConfig(TWO_TARGETS);
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

  it("ships the validated deploy config as scout-config.json beside the ESM handler, in the Lambdas' format", () => {
    expect(readdirSync(bundleDir).sort()).toEqual(["index.mjs", "index.mjs.map", "scout-config.json"]);
    const path = join(bundleDir, "scout-config.json");
    const shipped = JSON.parse(readFileSync(path, "utf8"));
    expect(shipped).toEqual({
      configVersion: DEPLOY_CONFIG_VERSION,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      config: JSON.parse(JSON.stringify(config)),
    });
    // What the functions read at their cold start is the config the CDK app validated.
    expect(readDeployConfigFile(path)).toEqual(JSON.parse(JSON.stringify(config)));
    expect(shipped.config.targets.map((t: { id: string }) => t.id)).toEqual(["mail.example.net", "pop-only"]);
    // Lambda reads the package as another user: every shipped file must be world-readable.
    expect(statSync(join(bundleDir, "scout-config.json")).mode & 0o444).toBe(0o444);
  });

  it("bundles the AWS SDK (the versions the lock file pins) and leaves only better-sqlite3 out", () => {
    const code = readFileSync(join(bundleDir, "index.mjs"), "utf8");
    expect(code).not.toMatch(/from\s*"@aws-sdk\//);
    expect(code).not.toMatch(/from\s*"@smithy\//);
    // The S3 client's own code is inside: its service id and the SDK's user agent prefix.
    expect(code).toContain("aws-sdk-js");
    expect(code).toMatch(/from\s*"better-sqlite3"/);
    expect(code).toContain("createRequire");
    expect(existsSync(join(bundleDir, "node_modules"))).toBe(false);
  });

  it("exports the bundling settings it uses, so other builds can match them", () => {
    expect(SCOUT_BUNDLING.externalModules).toEqual(["better-sqlite3"]);
    expect(SCOUT_BUNDLING).toMatchObject({ format: "esm", target: "node24", minify: true, sourceMap: true });
  });
});

describe("ScoutFunction with a lazy module", () => {
  let lazyDir: string;
  beforeAll(() => {
    const outdir = mkdtempSync(join(tmpdir(), "scout-fn-lazy-"));
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    new ScoutFunction(new Stack(app, "LazyTest"), "Lazy", {
      entry: join(import.meta.dirname, "fixtures", "handler-with-lazy-module.ts"),
      description: "Email Scout lazy sample",
      config,
      timeout: Duration.seconds(10),
      logRetentionDays: 10,
      environment: {},
      lazyModules: ["mailparser"],
    });
    app.synth();
    const assets = readdirSync(outdir).filter((name) => name.startsWith("asset."));
    expect(assets).toHaveLength(1);
    lazyDir = join(outdir, assets[0] as string);
  });

  it("bundles it on its own beside the handler, which imports it by name", () => {
    expect(readdirSync(join(lazyDir, "node_modules", "mailparser")).sort()).toEqual([
      "index.mjs",
      "index.mjs.map",
      "package.json",
    ]);
    const code = readFileSync(join(lazyDir, "index.mjs"), "utf8");
    expect(code).toMatch(/import\(\s*"mailparser"\s*\)/);
    // mailparser and its decoders (iconv-lite, libmime) are well over 500 KB minified.
    expect(code.length).toBeLessThan(100_000);
    expect(
      readFileSync(join(lazyDir, "node_modules", "mailparser", "index.mjs"), "utf8").length,
    ).toBeGreaterThan(500_000);
  });

  it("runs: the handler finds the lazy module where Lambda unpacks the bundle", async () => {
    const bundle = (await import(pathToFileURL(join(lazyDir, "index.mjs")).href)) as {
      handler: () => Promise<string>;
    };
    expect(await bundle.handler()).toBe("loaded lazily");
  });

  it("takes npm package names only, since they become paths and shell words", () => {
    expect(lazyModuleFiles("@scope/pkg").file).toBe("node_modules/@scope/pkg/index.mjs");
    expect(() => lazyModuleFiles("../etc")).toThrow('lazy module "../etc" is not an npm package name');
    expect(() => lazyModuleFiles("a b")).toThrow(/not an npm package name/);
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
