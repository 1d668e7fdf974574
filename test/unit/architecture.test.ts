import { describe, expect, it } from "vitest";
import {
  checkImportRules,
  findCycles,
  type ImportEdge,
  type ImportGraph,
  importSpecifiers,
  REPOSITORY_ROOT,
  readImportGraph,
} from "../support/import-rules.ts";

/*
 * The layout's arrows point down only (README, "Architecture: one core, two thin shells"):
 * - core/ imports nothing outside core/, and none of the AWS SDK, Powertools, better-sqlite3,
 *   smtp-server, prom-client;
 * - lambdas/ and local/ never import each other;
 * - return/ (email_return) imports only core/wire/ and node:*; core/wire/ only itself and node:*;
 * - core/, lambdas/, local/, return/ never import lib/, bin/ or test/;
 * - no import cycles anywhere in core/, lambdas/, local/, return/, lib/, bin/.
 */

const file = (from: string, to: string | undefined, specifier = to ?? "./missing.ts"): ImportEdge => ({
  from,
  specifier,
  to,
  kind: "file",
});
const pkg = (from: string, name: string): ImportEdge => ({
  from,
  specifier: name,
  to: name,
  kind: "package",
});
const builtin = (from: string, name: string): ImportEdge => ({
  from,
  specifier: name,
  to: name,
  kind: "builtin",
});

describe("the rule checker, on a graph made up to break every rule", () => {
  const graph: ImportGraph = {
    files: [
      "core/events/a.ts",
      "core/events/b.ts",
      "core/events/c.ts",
      "core/wire/token.ts",
      "core/model/status.ts",
      "lambdas/handlers/prober.ts",
      "lambdas/aws/s3.ts",
      "local/serve/monitor.ts",
      "return/email-return.ts",
      "lib/stack.ts",
      "bin/cdk-app.ts",
    ],
    edges: [
      // Allowed: down into core, core/wire from return/, node:* and zod from core.
      file("lambdas/handlers/prober.ts", "core/model/status.ts"),
      file("local/serve/monitor.ts", "core/model/status.ts"),
      file("return/email-return.ts", "core/wire/token.ts"),
      builtin("return/email-return.ts", "node:fs"),
      builtin("core/wire/token.ts", "node:crypto"),
      pkg("core/events/a.ts", "zod"),
      file("lib/stack.ts", "lambdas/handlers/prober.ts"),
      file("bin/cdk-app.ts", "lib/stack.ts"),
      // Broken.
      file("core/events/a.ts", "local/serve/monitor.ts"),
      pkg("core/events/b.ts", "@aws-sdk/client-s3"),
      pkg("core/events/b.ts", "prom-client"),
      file("local/serve/monitor.ts", "lambdas/handlers/prober.ts"),
      file("lambdas/handlers/prober.ts", "local/serve/monitor.ts"),
      file("return/email-return.ts", "core/model/status.ts"),
      pkg("return/email-return.ts", "yaml"),
      file("core/wire/token.ts", "core/model/status.ts"),
      pkg("core/wire/token.ts", "zod"),
      file("lambdas/aws/s3.ts", "lib/stack.ts"),
      file("local/serve/monitor.ts", "test/support/fake.ts"),
      file("core/events/c.ts", undefined, "./gone.ts"),
      // A cycle of three.
      file("core/events/a.ts", "core/events/b.ts"),
      file("core/events/b.ts", "core/events/c.ts"),
      file("core/events/c.ts", "core/events/a.ts"),
      // A shortcut inside it: one cycle is reported, the tangle's other files named.
      file("core/events/a.ts", "core/events/c.ts"),
    ],
  };

  it("names file -> import and the rule broken, then each cycle's files in order", () => {
    expect(checkImportRules(graph)).toEqual([
      "core/events/a.ts -> local/serve/monitor.ts: core/ imports nothing outside core/",
      "core/events/b.ts -> @aws-sdk/client-s3: core/ imports no AWS SDK, Powertools, better-sqlite3, smtp-server or prom-client",
      "core/events/b.ts -> prom-client: core/ imports no AWS SDK, Powertools, better-sqlite3, smtp-server or prom-client",
      "local/serve/monitor.ts -> lambdas/handlers/prober.ts: lambdas/ and local/ never import each other",
      "lambdas/handlers/prober.ts -> local/serve/monitor.ts: lambdas/ and local/ never import each other",
      "return/email-return.ts -> core/model/status.ts: return/ imports only core/wire/ and node:*",
      "return/email-return.ts -> yaml: return/ imports only core/wire/ and node:*",
      "core/wire/token.ts -> core/model/status.ts: core/wire/ imports only core/wire/ and node:*",
      "core/wire/token.ts -> zod: core/wire/ imports only core/wire/ and node:*",
      "lambdas/aws/s3.ts -> lib/stack.ts: lambdas/ never imports lib/, bin/ or test/",
      "local/serve/monitor.ts -> test/support/fake.ts: local/ never imports lib/, bin/ or test/",
      "core/events/c.ts -> ./gone.ts: a relative import must resolve to a file",
      "core/events/a.ts -> core/events/c.ts -> core/events/a.ts: no import cycles (tangled with it: core/events/b.ts)",
      "lambdas/handlers/prober.ts -> local/serve/monitor.ts -> lambdas/handlers/prober.ts: no import cycles",
    ]);
  });

  it("finds a file that imports itself, and no cycle in a graph that only branches and joins", () => {
    const self = { files: ["core/x.ts"], edges: [file("core/x.ts", "core/x.ts")] };
    expect(findCycles(self)).toEqual([{ files: ["core/x.ts", "core/x.ts"], tangled: [] }]);
    const diamond = {
      files: ["core/a.ts", "core/b.ts", "core/c.ts", "core/d.ts"],
      edges: [
        file("core/a.ts", "core/b.ts"),
        file("core/a.ts", "core/c.ts"),
        file("core/b.ts", "core/d.ts"),
        file("core/c.ts", "core/d.ts"),
      ],
    };
    expect(findCycles(diamond)).toEqual([]);
  });
});

describe("reading the imports of a source file", () => {
  it("takes static, re-exported, side-effect, type-only and dynamic imports, not comments or strings", () => {
    const source = [
      'import { readFileSync } from "node:fs";',
      'import type { Status } from "../model/status.ts";',
      "import Composer, {",
      "  type Options,",
      '} from "nodemailer/lib/mail-composer";',
      'export { describeError } from "./describe-error.ts";',
      'export * as wire from "../wire/index.ts";',
      'import "./side-effect.ts";',
      '// import { old } from "./commented-out.ts";',
      '/* const later = import("./in-a-block-comment.ts"); */',
      'const text = `import("./in-a-template.ts")`;',
      'const pattern = /import\\("x"\\)/;',
      'const lazy = () => import("./lazy.ts");',
      'let parser: typeof import("mailparser") | undefined;',
      'const from = 1; const half = from / 2; const x = "y"; // \'',
    ].join("\n");
    expect(importSpecifiers(source)).toEqual([
      "node:fs",
      "../model/status.ts",
      "nodemailer/lib/mail-composer",
      "./describe-error.ts",
      "../wire/index.ts",
      "./side-effect.ts",
      "./lazy.ts",
      "mailparser",
    ]);
  });
});

describe("this repository", () => {
  const graph = readImportGraph(REPOSITORY_ROOT);

  it("is read whole: every source folder, its relative imports resolved", () => {
    for (const folder of ["core/", "lambdas/", "local/", "return/", "lib/", "bin/"]) {
      expect(graph.files.some((path) => path.startsWith(folder))).toBe(true);
    }
    expect(graph.edges).toContainEqual<ImportEdge>({
      from: "return/email-return.ts",
      specifier: "../core/wire/parse-headers.ts",
      to: "core/wire/parse-headers.ts",
      kind: "file",
    });
  });

  it("breaks none of the layout's import rules and has no import cycle", () => {
    expect(checkImportRules(graph)).toEqual([]);
  });
});
