import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { SCOUT_BUNDLING } from "../../../lib/constructs/scout-function.ts";
import { CORRELATOR_LAZY_MODULES } from "../../../lib/email-scout-stack.ts";

const REPO = join(import.meta.dirname, "../../..");

/** The packages whose code lands in a handler's bundle, built with the stack's own settings. */
async function bundledPackages(entry: string, lazyModules: readonly string[] = []): Promise<Set<string>> {
  const { metafile } = await build({
    entryPoints: [join(REPO, entry)],
    bundle: true,
    platform: "node",
    format: SCOUT_BUNDLING.format,
    target: SCOUT_BUNDLING.target,
    mainFields: [...SCOUT_BUNDLING.mainFields],
    minify: SCOUT_BUNDLING.minify,
    external: [...SCOUT_BUNDLING.externalModules, ...lazyModules],
    metafile: true,
    write: false,
    logLevel: "error",
  });
  const packages = Object.keys(metafile.inputs).map(
    (path) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? "(project)",
  );
  return new Set(packages);
}

// The CDK app validates the config at synth; the Lambdas read its JSON output (deploy-config-file.ts).
describe("the handlers' bundles carry no YAML parser and no schema library", () => {
  it.each([
    ["prober", "lambdas/handlers/prober.ts", []],
    ["correlator", "lambdas/handlers/correlator.ts", CORRELATOR_LAZY_MODULES],
    ["notifier", "lambdas/handlers/notifier.ts", []],
  ])("%s", async (_name, entry, lazyModules) => {
    const packages = await bundledPackages(entry, lazyModules);
    expect(packages.has("@aws-sdk/client-dynamodb") || packages.has("@aws-sdk/client-sqs")).toBe(true);
    expect([...packages].filter((name) => name === "zod" || name === "yaml")).toEqual([]);
  });
});
