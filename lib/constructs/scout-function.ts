import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { DeployConfig } from "../../core/config/schema.ts";
import { CONFIG_FILE_NAME } from "../../lambdas/runtime/config-path.ts";
import { deployConfigFileText } from "../../lambdas/runtime/deploy-config-file.ts";
import { SecureQueue } from "./secure-queue.ts";

/**
 * The newest Node.js runtime this aws-cdk-lib knows: older ones reach end of support on Lambda
 * first, and cdk-nag (AwsSolutions-L1) insists on the newest. The bundle targets the same version.
 */
export const SCOUT_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * How every handler is bundled (esbuild through NodejsFunction); exported so the Lambda
 * benchmark builds exactly what the stack deploys.
 */
export const SCOUT_BUNDLING = {
  // ESM keeps the handlers' top-level imports and awaits as written; the banner gives the
  // CommonJS packages bundled into it (mailparser, nodemailer) the `require` they expect.
  format: OutputFormat.ESM,
  target: "node24",
  mainFields: ["module", "main"],
  banner:
    "import { createRequire as __scoutCreateRequire } from 'node:module'; const require = __scoutCreateRequire(import.meta.url);",
  minify: true,
  sourceMap: true,
  // Stack traces map to file and line without the sources' text in the map: a third of the
  // size, and Node (--enable-source-maps) reads it faster at cold start.
  sourcesContent: false,
  // The AWS SDK is bundled, not taken from the runtime: the versions package-lock.json pins are
  // the ones tested, and one tree-shaken bundle loads faster than the runtime's separate
  // packages (correlator cold init 464 -> under 300 ms in bench/lambdas). better-sqlite3 is a
  // native module of the local adapters, which no handler imports: listing it keeps a stray
  // import from bundling it.
  externalModules: ["better-sqlite3"],
} as const;

/**
 * Where a lazy module (ScoutFunctionProps.lazyModules) lands beside the handler, and the
 * package.json that lets Node resolve `import("<name>")` to it from index.mjs.
 */
export function lazyModuleFiles(name: string): { readonly file: string; readonly packageJson: string } {
  if (!/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/.test(name)) {
    throw new Error(`lazy module "${name}" is not an npm package name`);
  }
  return {
    file: `node_modules/${name}/index.mjs`,
    packageJson: JSON.stringify({ name, type: "module", main: "index.mjs" }),
  };
}

export interface ScoutFunctionProps {
  /** The handler's source, e.g. lambdas/handlers/prober.ts; it must export `handler`. */
  readonly entry: string;
  readonly description: string;
  /** The validated deploy configuration, shipped in the bundle as scout-config.json (deploy-config-file.ts). */
  readonly config: DeployConfig;
  readonly timeout: Duration;
  readonly memorySize?: number;
  readonly environment: Record<string, string>;
  readonly logRetentionDays: number;
  /** For functions invoked asynchronously (EventBridge, S3): failed events land here after the retries. */
  readonly asyncDeadLetterQueue?: boolean;
  /** Lambda's own retries of a failed asynchronous invocation (0-2; Lambda's default is 2). */
  readonly asyncRetryAttempts?: number;
  readonly reservedConcurrentExecutions?: number;
  /**
   * Packages the handler loads only by a dynamic import() on a path it may not take (the
   * correlator's mailparser, half its bundle): each is bundled on its own, with the same
   * settings, into node_modules/<name>/ beside the handler, so a cold start does not parse it.
   */
  readonly lazyModules?: readonly string[];
  readonly vpc?: Pick<lambda.FunctionProps, "vpc" | "vpcSubnets" | "securityGroups">;
}

/**
 * One Email Scout Lambda with the project's defaults: newest Node runtime on ARM, a log group
 * with retention made here (not by a custom resource), X-Ray tracing, source maps, a local
 * esbuild bundle (ESM) with the deploy configuration beside the handler, and a role that holds
 * only what the caller adds to it plus writing its own logs.
 */
export class ScoutFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly deadLetterQueue?: sqs.Queue;

  constructor(scope: Construct, id: string, props: ScoutFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: retentionFor(props.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole: that managed policy may write to every log group.
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `${props.description} (execution role)`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which have no resource-level permissions.",
    });
    const vpcAccess = props.vpc?.vpc ? this.allowVpcNetworkInterfaces() : undefined;
    if (props.asyncDeadLetterQueue) {
      this.deadLetterQueue = new SecureQueue(this, "AsyncDeadLetterQueue", {
        deadLetterRole: "the dead-letter queue of the function's asynchronous invocations",
      }).queue;
    }

    const configFile = writeConfigFile(props.config);
    const lazyModules = [...(props.lazyModules ?? [])];
    this.function = new NodejsFunction(this, "Function", {
      entry: props.entry,
      handler: "handler",
      description: props.description,
      runtime: SCOUT_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: { NODE_OPTIONS: "--enable-source-maps", ...props.environment },
      ...(this.deadLetterQueue ? { deadLetterQueue: this.deadLetterQueue } : {}),
      ...(props.asyncRetryAttempts !== undefined ? { retryAttempts: props.asyncRetryAttempts } : {}),
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      ...props.vpc,
      bundling: {
        ...SCOUT_BUNDLING,
        externalModules: [...SCOUT_BUNDLING.externalModules, ...lazyModules],
        mainFields: [...SCOUT_BUNDLING.mainFields],
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => [
            `cp ${shellQuote(configFile)} ${shellQuote(join(outputDir, CONFIG_FILE_NAME))}`,
            // Lambda runs the code as another user than the files' owner: they must be world-readable.
            `chmod 644 ${shellQuote(join(outputDir, CONFIG_FILE_NAME))}`,
            ...lazyModules.flatMap((name) => lazyModuleCommands(name, inputDir, outputDir)),
          ],
        },
      },
    });
    // Lambda creates the function's network interfaces with the role's rights while it creates the
    // function, and needs them again to remove the interfaces when the function goes: the policy
    // must be attached before the function exists and detached only after. Depending on the role
    // is not enough, since the policy is a resource of its own.
    if (vpcAccess) this.function.node.addDependency(vpcAccess);
  }

  /** Lambda creates and removes the function's network interfaces in the VPC with these. */
  private allowVpcNetworkInterfaces(): iam.Policy {
    const policy = new iam.Policy(this, "VpcAccess", {
      statements: [
        new iam.PolicyStatement({
          actions: [
            "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSubnets",
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
          ],
          resources: ["*"],
        }),
      ],
    });
    policy.attachToRole(this.role);
    Validations.of(policy).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Lambda's VPC attachment needs the EC2 network-interface actions; ec2:Describe* has no resource-level permissions and the interfaces do not exist before the function.",
    });
    return policy;
  }

  /** Adds a statement to the function's own role. */
  addToRolePolicy(statement: iam.PolicyStatement): void {
    this.role.addToPolicy(statement);
  }
}

/** Bundles one lazy module with SCOUT_BUNDLING's settings, by the project's own esbuild. */
function lazyModuleCommands(name: string, inputDir: string, outputDir: string): string[] {
  const { file, packageJson } = lazyModuleFiles(name);
  const out = join(outputDir, file);
  const b = SCOUT_BUNDLING;
  const args = [
    name,
    "--bundle",
    "--platform=node",
    `--format=${b.format}`,
    `--target=${b.target}`,
    `--main-fields=${b.mainFields.join(",")}`,
    ...(b.minify ? ["--minify"] : []),
    ...(b.sourceMap ? ["--sourcemap"] : []),
    `--sources-content=${b.sourcesContent}`,
    ...b.externalModules.map((external) => `--external:${external}`),
    `--banner:js=${b.banner}`,
    `--outfile=${out}`,
    "--log-level=warning",
  ];
  return [
    `cd ${shellQuote(inputDir)} && ${shellQuote(join(inputDir, "node_modules/.bin/esbuild"))} ${args.map(shellQuote).join(" ")}`,
    `printf '%s' ${shellQuote(packageJson)} > ${shellQuote(join(outputDir, "node_modules", name, "package.json"))}`,
  ];
}

/**
 * Writes the configuration into a private temporary folder for the bundling hook to copy
 * (bundling runs later, during synth), and removes the folder when the process ends.
 */
function writeConfigFile(config: DeployConfig): string {
  const folder = mkdtempSync(join(tmpdir(), "scout-config-"));
  process.once("exit", () => rmSync(folder, { recursive: true, force: true }));
  const file = join(folder, CONFIG_FILE_NAME);
  writeFileSync(file, deployConfigFileText(config), { mode: 0o600 });
  return file;
}

/** POSIX single quotes: the hooks run in a shell and temporary paths may contain anything. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** CloudWatch Logs accepts only certain retention periods: the shortest one that keeps logs at least as long. */
export function retentionFor(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays)
    .filter((value): value is number => typeof value === "number" && value > 0)
    .sort((a, b) => a - b);
  const fit = allowed.find((value) => value >= days);
  return (fit ?? logs.RetentionDays.INFINITE) as logs.RetentionDays;
}
