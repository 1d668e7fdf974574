// Builds the runnable artefacts with esbuild (no tsc emit: TypeScript only type-checks).
//  - dist/email-scout.mjs: the CLI, one ESM bundle, dependencies bundled so it starts fast
//    (a Nagios plugin is started once per check).
//  - dist/email_return.cjs: the return script for mail servers, Node standard library only,
//    one self-contained CommonJS file that runs from a ~/.forward pipe.
//  - dist/email_return.pl: the same script in Perl 5 (core modules only), for mail servers
//    without Node: the parts in return/perl/ joined into one file beside email_return.cjs.
import { existsSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { build } from "esbuild";

const common = { bundle: true, platform: "node", target: "node20", sourcemap: false, logLevel: "warning" };

await build({
  ...common,
  entryPoints: ["bin/email-scout.ts"],
  outfile: "dist/email-scout.mjs",
  format: "esm",
  // A native addon cannot be bundled; it is loaded from node_modules at run time.
  external: ["better-sqlite3"],
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __esCreateRequire } from 'node:module'; const require = __esCreateRequire(import.meta.url);",
  },
});
await chmod("dist/email-scout.mjs", 0o755);

const returnEntry = "return/email-return.ts";
const leanCrypto = resolve("return/lean-crypto/index.ts");
if (existsSync(returnEntry)) {
  await build({
    ...common,
    entryPoints: [returnEntry],
    outfile: "dist/email_return.cjs",
    format: "cjs",
    banner: { js: "#!/usr/bin/env node" },
    plugins: [
      {
        // The return script runs on mail servers with no install step: refuse any package.
        name: "stdlib-only",
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => {
            // node:crypto would initialise OpenSSL at every start (see return/lean-crypto).
            if (args.path === "node:crypto" || args.path === "crypto") return { path: leanCrypto };
            if (!args.path.startsWith("node:")) {
              return {
                errors: [{ text: `email_return may use the Node standard library only, not ${args.path}` }],
              };
            }
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  await chmod("dist/email_return.cjs", 0o755);
}

// The Perl email_return: its parts joined in this order into one file (one lexical scope; the
// last part starts it, once everything above is defined).
const PERL_PARTS = ["main", "config", "key-ring", "message", "reply", "sendmail", "log", "start"];
if (existsSync("return/perl/main.pl")) {
  const parts = await Promise.all(PERL_PARTS.map((name) => readFile(`return/perl/${name}.pl`, "utf8")));
  await writeFile("dist/email_return.pl", parts.join("\n"));
  await chmod("dist/email_return.pl", 0o755);
}
