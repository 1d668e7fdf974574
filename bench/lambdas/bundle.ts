/*
 * Bundles a Lambda handler the way lib/constructs/scout-function.ts has the CDK bundle it.
 *
 * The construct passes its bundling options inline to NodejsFunction and exports none of them,
 * so they are replicated here, and translated to the esbuild arguments NodejsFunction builds
 * from them (aws-cdk-lib/aws-lambda-nodejs: --bundle --platform=node --target --format
 * --outfile=index.mjs --minify --sourcemap --external:... --banner:js --main-fields).
 * `settingsDrift` reads the construct's source at run time and names any replicated value it no
 * longer contains, so a change there shows up in the report instead of silently skewing it.
 */
import { readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const REPO = join(import.meta.dirname, "../..");
const CONSTRUCT = join(REPO, "lib/constructs/scout-function.ts");

/** Copied from ScoutFunction's `bundling` block and BUNDLE_TARGET. */
export const CDK_BUNDLING = {
  format: "esm",
  target: "node24",
  mainFields: ["module", "main"],
  banner:
    "import { createRequire as __scoutCreateRequire } from 'node:module'; const require = __scoutCreateRequire(import.meta.url);",
  minify: true,
  sourceMap: true,
  externalModules: ["@aws-sdk/*", "better-sqlite3"],
} as const;

/** The three handlers the stack deploys, by the entry it gives each ScoutFunction. */
export const LAMBDAS = [
  { name: "prober", entry: "lambdas/handlers/prober.ts" },
  { name: "correlator", entry: "lambdas/handlers/correlator.ts" },
  { name: "notifier", entry: "lambdas/handlers/notifier.ts" },
] as const;

export type LambdaName = (typeof LAMBDAS)[number]["name"];

export interface Bundle {
  readonly name: LambdaName;
  /** index.mjs, as Lambda unpacks it at LAMBDA_TASK_ROOT. */
  readonly file: string;
  readonly directory: string;
  readonly bytes: number;
  readonly sourceMapBytes: number;
  /** Bytes each package (or "(project)" for our own code) contributes to index.mjs, largest first. */
  readonly packages: [string, number][];
  /** The AWS SDK packages the bundle leaves to the runtime, as it imports them. */
  readonly externalImports: string[];
}

/** Replicated values the construct's source no longer contains (empty when they agree). */
export function settingsDrift(): string[] {
  const source = readFileSync(CONSTRUCT, "utf8");
  const expected = [
    `const BUNDLE_TARGET = "${CDK_BUNDLING.target}"`,
    "format: OutputFormat.ESM",
    `mainFields: ${JSON.stringify(CDK_BUNDLING.mainFields).replace(",", ", ")}`,
    CDK_BUNDLING.banner,
    "minify: true",
    "sourceMap: true",
    `externalModules: ${JSON.stringify(CDK_BUNDLING.externalModules).replace(",", ", ")}`,
  ];
  // The banner is split over lines in the source: compare with whitespace runs collapsed.
  const flat = source.replace(/\s+/g, " ");
  return expected.filter((text) => !flat.includes(text.replace(/\s+/g, " ")));
}

/**
 * Bundles one handler into `directory`/<name>/index.mjs. The runtime provides the AWS SDK on
 * Lambda; here a node_modules link beside the bundle lets Node's ESM resolver find the repo's
 * copy (NODE_PATH does not apply to ESM imports).
 */
export async function bundleLambda(
  directory: string,
  lambda: (typeof LAMBDAS)[number],
  options: { readonly bundleSdk?: boolean } = {},
): Promise<Bundle> {
  // bundleSdk is a what-if, not the deployed build: the SDK inside the bundle instead of the runtime's.
  const outDir = join(directory, options.bundleSdk ? `${lambda.name}-sdk-bundled` : lambda.name);
  const external = CDK_BUNDLING.externalModules.filter(
    (name) => !(options.bundleSdk && name === "@aws-sdk/*"),
  );
  const file = join(outDir, "index.mjs");
  const { metafile } = await build({
    entryPoints: [join(REPO, lambda.entry)],
    metafile: true,
    outfile: file,
    bundle: true,
    platform: "node",
    format: CDK_BUNDLING.format,
    target: CDK_BUNDLING.target,
    mainFields: [...CDK_BUNDLING.mainFields],
    banner: { js: CDK_BUNDLING.banner },
    minify: CDK_BUNDLING.minify,
    sourcemap: CDK_BUNDLING.sourceMap,
    external,
    logLevel: "error",
  });
  symlinkSync(join(REPO, "node_modules"), join(outDir, "node_modules"), "dir");
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(".mjs"))?.[1];
  return {
    name: lambda.name,
    file,
    directory: outDir,
    bytes: statSync(file).size,
    sourceMapBytes: statSync(`${file}.map`).size,
    packages: bytesByPackage(output?.inputs ?? {}),
    externalImports: [
      ...new Set((output?.imports ?? []).filter((entry) => entry.external).map((entry) => entry.path)),
    ].filter((path) => path.startsWith("@aws-sdk/")),
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
