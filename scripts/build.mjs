// Builds the runnable artefacts with esbuild (no tsc emit: TypeScript only type-checks).
//  - dist/email-scout.mjs (+ dist/chunk-*.mjs): the CLI, dependencies bundled and split by
//    command so it starts fast (a Nagios plugin is started once per check).
//  - dist/email_return.cjs: the return script for mail servers, Node standard library only,
//    one self-contained CommonJS file that runs from a ~/.forward pipe.
//  - dist/email_return.pl: the same script in Perl 5 (core modules only), for mail servers
//    without Node: the parts in return/perl/ joined into one file beside email_return.cjs.
import { existsSync } from "node:fs";
import { chmod, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { build } from "esbuild";

const common = { bundle: true, platform: "node", target: "node20", sourcemap: false, logLevel: "warning" };

// Split by command: the entry holds the dispatcher only, and each command's code (and its
// dependencies: SQLite, mail parsing, the dashboard...) is a chunk loaded when that command runs,
// so `check` as a Nagios plugin loads the check code and little else. Chunks sit beside the
// entry (dist/chunk-*.mjs), where import.meta.url-relative paths stay as they were.
for (const file of await readdir("dist").catch(() => [])) {
  if (/^chunk-.*\.mjs$/.test(file)) await rm(`dist/${file}`);
}
await build({
  ...common,
  entryPoints: { "email-scout": "bin/email-scout.ts" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  splitting: true,
  chunkNames: "chunk-[hash]",
  format: "esm",
  // A native addon cannot be bundled; it is loaded from node_modules at run time.
  external: ["better-sqlite3"],
  // Some CommonJS dependencies call require(); give each ESM file one.
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
