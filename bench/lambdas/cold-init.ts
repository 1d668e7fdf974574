/*
 * Cold init of a bundle: a fresh `node` per sample imports the bundle and reports, from inside,
 * when the handler was exported. performance.now() counts from the process's time origin, so
 * "since start" holds Node's own start-up as well as the import; "import" is the import alone.
 * The AWS SDK is external, as on Lambda, and is loaded from the repo's node_modules: its load
 * time is included in both.
 */
import { execFile } from "node:child_process";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { InitSubject } from "./bundle.ts";

const run = promisify(execFile);

// Runs in the child: nothing but the import between the two clock readings.
const CHILD = `
const before = performance.now();
const bundle = await import(process.env.SCOUT_BUNDLE_URL);
const after = performance.now();
if (typeof bundle.handler !== "function") throw new Error("the bundle exports no handler function");
process.stdout.write(JSON.stringify({ sinceStartMs: after, importMs: after - before }));
`;

export interface InitSample {
  readonly sinceStartMs: number;
  readonly importMs: number;
}

/**
 * One cold import. `sourceMaps` adds --enable-source-maps, which the stack sets in NODE_OPTIONS
 * on every function (Node then reads the bundle's source map when it loads the bundle).
 */
export async function coldInit(bundle: InitSubject, sourceMaps: boolean): Promise<InitSample> {
  const { stdout } = await run(
    process.execPath,
    [...(sourceMaps ? ["--enable-source-maps"] : []), "--input-type=module", "--eval", CHILD],
    {
      cwd: bundle.directory,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        SCOUT_BUNDLE_URL: pathToFileURL(bundle.file).href,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        AWS_REGION: "us-east-1",
        LAMBDA_TASK_ROOT: bundle.directory,
      },
      timeout: 30_000,
    },
  );
  const sample = JSON.parse(stdout) as InitSample;
  if (!Number.isFinite(sample.sinceStartMs) || !Number.isFinite(sample.importMs)) {
    throw new Error(`cold init of ${bundle.name} printed no timing: ${stdout.slice(0, 200)}`);
  }
  return sample;
}

export interface InitSamples {
  /** With --enable-source-maps, as deployed. */
  readonly deployed: InitSample[];
  readonly withoutSourceMaps: InitSample[];
}

/**
 * `runs` cold imports of each bundle with and without source maps, taken in turns (prober,
 * correlator, notifier, prober, ...; the two variants in alternating order) so a burst of load
 * on the machine spreads over all of them rather than skewing one.
 */
export async function coldInits(
  bundles: readonly InitSubject[],
  runs: number,
): Promise<Map<string, InitSamples>> {
  const samples = new Map<string, InitSamples>(
    bundles.map((bundle) => [bundle.name, { deployed: [], withoutSourceMaps: [] }]),
  );
  // One untimed import each first: the file system cache then holds the SDK for every sample.
  for (const bundle of bundles) await coldInit(bundle, true);
  for (let round = 0; round < runs; round++) {
    for (const bundle of bundles) {
      const into = samples.get(bundle.name) as InitSamples;
      for (const sourceMaps of round % 2 === 0 ? [true, false] : [false, true]) {
        (sourceMaps ? into.deployed : into.withoutSourceMaps).push(await coldInit(bundle, sourceMaps));
      }
    }
  }
  return samples;
}
