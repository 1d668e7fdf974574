/*
 * Bundles a Lambda handler the way lib/constructs/scout-function.ts has the CDK bundle it: the
 * settings are the construct's own SCOUT_BUNDLING, translated to the esbuild arguments
 * NodejsFunction builds from them (aws-cdk-lib/aws-lambda-nodejs: --bundle --platform=node
 * --target --format --outfile=index.mjs --minify --sourcemap --sources-content --external:... --banner:js
 * --main-fields).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BuildOptions, build } from "esbuild";
import { lazyModuleFiles, SCOUT_BUNDLING } from "../../lib/constructs/scout-function.ts";
import { CORRELATOR_LAZY_MODULES } from "../../lib/email-scout-stack.ts";

const REPO = join(import.meta.dirname, "../..");

/** The three handlers the stack deploys, by the entry and lazy modules it gives each ScoutFunction. */
export const LAMBDAS: readonly {
  readonly name: "prober" | "correlator" | "notifier";
  readonly entry: string;
  readonly lazyModules: readonly string[];
}[] = [
  { name: "prober", entry: "lambdas/handlers/prober.ts", lazyModules: [] },
  { name: "correlator", entry: "lambdas/handlers/correlator.ts", lazyModules: CORRELATOR_LAZY_MODULES },
  { name: "notifier", entry: "lambdas/handlers/notifier.ts", lazyModules: [] },
];

export type LambdaName = (typeof LAMBDAS)[number]["name"];

export interface Bundle {
  readonly name: LambdaName;
  /** Set for a build of another revision (--baseline): "baseline c024b48". */
  readonly variant?: string;
  /** index.mjs, as Lambda unpacks it at LAMBDA_TASK_ROOT. */
  readonly file: string;
  readonly directory: string;
  readonly bytes: number;
  readonly sourceMapBytes: number;
  /** Bytes each package (or "(project)" for our own code) contributes to index.mjs, largest first. */
  readonly packages: [string, number][];
  /** The AWS SDK packages the bundle leaves to the runtime, as it imports them (none as deployed). */
  readonly externalImports: string[];
  /** Lazy modules bundled beside index.mjs (node_modules/<name>/index.mjs): name and bytes. */
  readonly lazyModules: [string, number][];
}

/**
 * Bundles one handler into `directory`/<name>/index.mjs as deployed (the AWS SDK inside).
 * `sdkExternal` builds the what-if of the runtime's SDK instead (as deployed before): the SDK is
 * then left out and a node_modules link beside the bundle lets Node's ESM resolver find the
 * repo's copy (NODE_PATH does not apply to ESM imports). The prober at scale runs that variant,
 * because its harness stands in for SES, SQS and Secrets Manager by patching the SDK classes
 * it shares with the bundle; the SDK code that runs is the same either way.
 */
export async function bundleLambda(
  directory: string,
  lambda: (typeof LAMBDAS)[number],
  options: { readonly sdkExternal?: boolean; readonly baseline?: Baseline } = {},
): Promise<Bundle> {
  const { baseline } = options;
  const root = baseline?.root ?? REPO;
  const outDir = join(
    directory,
    `${lambda.name}${options.sdkExternal ? "-sdk-external" : ""}${baseline ? `-${baseline.revision}` : ""}`,
  );
  // The what-if of the runtime's SDK is the build as it was before: lazy modules inside too.
  const lazyModules = options.sdkExternal ? [] : lambda.lazyModules;
  const external = [
    ...SCOUT_BUNDLING.externalModules,
    ...lazyModules,
    ...(options.sdkExternal ? ["@aws-sdk/*"] : []),
  ];
  const file = join(outDir, "index.mjs");
  const { metafile } = await build({
    ...commonOptions(),
    entryPoints: [join(root, lambda.entry)],
    metafile: true,
    outfile: file,
    external,
  });
  const lazy: [string, number][] = [];
  for (const name of lazyModules) {
    const { file: lazyFile, packageJson } = lazyModuleFiles(name);
    const out = join(outDir, lazyFile);
    await build({ ...commonOptions(), entryPoints: [name], absWorkingDir: root, outfile: out });
    writeFileSync(join(outDir, "node_modules", name, "package.json"), packageJson);
    lazy.push([name, statSync(out).size]);
  }
  if (options.sdkExternal) symlinkSync(join(REPO, "node_modules"), join(outDir, "node_modules"), "dir");
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(".mjs"))?.[1];
  return {
    name: lambda.name,
    ...(baseline ? { variant: `baseline ${baseline.revision}` } : {}),
    file,
    directory: outDir,
    bytes: statSync(file).size,
    sourceMapBytes: statSync(`${file}.map`).size,
    packages: bytesByPackage(output?.inputs ?? {}),
    externalImports: [
      ...new Set((output?.imports ?? []).filter((entry) => entry.external).map((entry) => entry.path)),
    ].filter((path) => path.startsWith("@aws-sdk/")),
    lazyModules: lazy,
  };
}

/** Another revision's source tree, to bundle its handlers beside this one's (before and after, in one run). */
export interface Baseline {
  /** The short commit id. */
  readonly revision: string;
  readonly root: string;
}

/**
 * Exports `revision` (git archive) into `directory`, with a link to this repository's
 * node_modules: its handlers bundle with the same packages and the same SCOUT_BUNDLING settings,
 * so only the project's own code differs.
 */
export function exportBaseline(revision: string, directory: string): Baseline {
  const short = execFileSync("git", ["rev-parse", "--short", `${revision}^{commit}`], { cwd: REPO })
    .toString()
    .trim();
  const root = join(directory, `baseline-${short}`);
  mkdirSync(root, { recursive: true });
  const tar = execFileSync("git", ["archive", "--format=tar", short], { cwd: REPO, maxBuffer: 2 ** 30 });
  execFileSync("tar", ["-x", "-C", root], { input: tar });
  symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"), "dir");
  return { revision: short, root };
}

/** "correlator", or "correlator (baseline c024b48)". */
export function bundleLabel(bundle: Pick<Bundle, "name" | "variant">): string {
  return bundle.variant === undefined ? bundle.name : `${bundle.name} (${bundle.variant})`;
}

/** SCOUT_BUNDLING as esbuild's own options (what NodejsFunction makes of it). */
function commonOptions(): BuildOptions {
  return {
    bundle: true,
    platform: "node",
    format: SCOUT_BUNDLING.format,
    target: SCOUT_BUNDLING.target,
    mainFields: [...SCOUT_BUNDLING.mainFields],
    banner: { js: SCOUT_BUNDLING.banner },
    minify: SCOUT_BUNDLING.minify,
    sourcemap: SCOUT_BUNDLING.sourceMap,
    sourcesContent: SCOUT_BUNDLING.sourcesContent,
    external: [...SCOUT_BUNDLING.externalModules],
    logLevel: "error",
  };
}

/**
 * A module beside the bundle that imports only what the bundle leaves external (the AWS SDK
 * clients) and exports a handler: its cold init is the SDK's share of the bundle's.
 */
export function externalsOnly(bundle: Bundle): InitSubject {
  const file = join(bundle.directory, "externals-only.mjs");
  const imports = bundle.externalImports.map((path) => `import ${JSON.stringify(path)};`);
  writeFileSync(file, `${imports.join("\n")}\nexport const handler = async () => {};\n`);
  return { name: `${bundle.name}: its AWS SDK imports alone`, file, directory: bundle.directory };
}

/** What a cold init imports: a bundle, or a stand-in for part of one. */
export interface InitSubject {
  readonly name: string;
  readonly file: string;
  readonly directory: string;
}

/** Sums the minified bytes of each input by the package it comes from. */
function bytesByPackage(inputs: Record<string, { bytesInOutput: number }>): [string, number][] {
  const totals = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const name = match?.[1] ?? "(project)";
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals.entries()].sort((a, b) => b[1] - a[1]);
}
