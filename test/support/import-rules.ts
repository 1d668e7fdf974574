import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";

/**
 * The layout's import rules (README, "Architecture: one core, two thin shells") as a pure
 * function over an import graph, and a reader that builds that graph from the source folders.
 * Paths are repository-relative with forward slashes ("core/wire/probe-token.ts").
 */

/** The folders whose imports the rules govern. */
export const SOURCE_FOLDERS = ["core", "lambdas", "local", "return", "lib", "bin"] as const;

export interface ImportEdge {
  /** The importing file. */
  readonly from: string;
  /** The specifier as written. */
  readonly specifier: string;
  /**
   * What it names: a repository file for a relative specifier (undefined when nothing there
   * resolves), "node:x" for a Node built-in, the package name ("@aws-sdk/client-s3", "zod")
   * for an npm package.
   */
  readonly to: string | undefined;
  readonly kind: "file" | "builtin" | "package";
}

export interface ImportGraph {
  readonly files: readonly string[];
  readonly edges: readonly ImportEdge[];
}

const CORE_FORBIDDEN_PACKAGES = [
  /^@aws-sdk\//,
  /^@aws-lambda-powertools\//,
  /^better-sqlite3$/,
  /^smtp-server$/,
  /^prom-client$/,
];

const under = (path: string, folder: string): boolean => path.startsWith(`${folder}/`);
const topFolder = (path: string): string => path.split("/")[0] ?? path;

/** Every rule an edge can break, with the sentence that names it. */
function edgeViolation(edge: ImportEdge): string | undefined {
  const { from, to, kind } = edge;
  if (kind === "file" && to === undefined) return "a relative import must resolve to a file";
  const top = topFolder(from);
  if (kind === "file" && to !== undefined) {
    const target = topFolder(to);
    if (["core", "lambdas", "local", "return"].includes(top) && ["lib", "bin", "test"].includes(target)) {
      return `${top}/ never imports lib/, bin/ or test/`;
    }
  }
  if (under(from, "core/wire")) {
    if (kind === "builtin") return undefined;
    if (kind === "file" && to !== undefined && under(to, "core/wire")) return undefined;
    return "core/wire/ imports only core/wire/ and node:*";
  }
  if (top === "return") {
    if (kind === "builtin") return undefined;
    if (kind === "file" && to !== undefined && (under(to, "core/wire") || under(to, "return")))
      return undefined;
    return "return/ imports only core/wire/ and node:*";
  }
  if (top === "core") {
    if (kind === "file" && to !== undefined && !under(to, "core"))
      return "core/ imports nothing outside core/";
    if (kind === "package" && to !== undefined && CORE_FORBIDDEN_PACKAGES.some((p) => p.test(to))) {
      return "core/ imports no AWS SDK, Powertools, better-sqlite3, smtp-server or prom-client";
    }
    return undefined;
  }
  if (kind === "file" && to !== undefined) {
    const target = topFolder(to);
    if ((top === "lambdas" && target === "local") || (top === "local" && target === "lambdas")) {
      return "lambdas/ and local/ never import each other";
    }
  }
  return undefined;
}

export interface ImportCycle {
  /** The files of one cycle in import order, the first repeated at the end. */
  readonly files: readonly string[];
  /** Other files caught in cycles with these (the same strongly connected component). */
  readonly tangled: readonly string[];
}

/**
 * The import cycles among the graph's files: one per strongly connected component of more
 * than one file (or a file importing itself), the shortest from its first file by name.
 */
export function findCycles(graph: ImportGraph): ImportCycle[] {
  const next = new Map<string, string[]>();
  for (const file of graph.files) next.set(file, []);
  for (const edge of graph.edges) {
    if (edge.kind !== "file" || edge.to === undefined || !next.has(edge.to)) continue;
    const targets = next.get(edge.from);
    if (targets !== undefined && !targets.includes(edge.to)) targets.push(edge.to);
  }
  for (const targets of next.values()) targets.sort();

  // Tarjan's strongly connected components, iteratively so a long chain cannot overflow.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of [...next.keys()].sort()) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; i: number }> = [{ node: root, i: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; i: number };
      const targets = next.get(frame.node) ?? [];
      if (frame.i < targets.length) {
        const target = targets[frame.i++] as string;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, i: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(target) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) {
        low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = component.length === 1 && (next.get(frame.node) ?? []).includes(frame.node);
        if (component.length > 1 || selfLoop) components.push(component);
      }
    }
  }

  // One cycle per component: the shortest way from its first file (by name) back to itself.
  return components
    .map((component) => {
      const members = new Set(component);
      const start = [...component].sort()[0] as string;
      const cameFrom = new Map<string, string>();
      const queue = [start];
      while (queue.length > 0) {
        const node = queue.shift() as string;
        for (const target of next.get(node) ?? []) {
          if (!members.has(target)) continue;
          if (target === start) {
            const path = [node];
            while (path[0] !== start) path.unshift(cameFrom.get(path[0] as string) as string);
            return {
              files: [...path, start],
              tangled: [...component].filter((f) => !path.includes(f)).sort(),
            };
          }
          if (!cameFrom.has(target)) {
            cameFrom.set(target, node);
            queue.push(target);
          }
        }
      }
      return { files: [start, start], tangled: [] };
    })
    .sort((a, b) => (a.files[0] as string).localeCompare(b.files[0] as string));
}

/**
 * Every broken rule, one line each, "file -> import: rule" (the import as the repository path
 * it resolves to, else as written), then each cycle as "a -> b -> a: no import cycles", naming
 * the other files of its tangle if there are more.
 */
export function checkImportRules(graph: ImportGraph): string[] {
  const messages = new Set<string>();
  for (const edge of graph.edges) {
    const rule = edgeViolation(edge);
    const target = edge.kind === "file" ? (edge.to ?? edge.specifier) : edge.specifier;
    if (rule !== undefined) messages.add(`${edge.from} -> ${target}: ${rule}`);
  }
  for (const { files, tangled } of findCycles(graph)) {
    const more = tangled.length > 0 ? ` (tangled with it: ${tangled.join(", ")})` : "";
    messages.add(`${files.join(" -> ")}: no import cycles${more}`);
  }
  return [...messages];
}

/**
 * The source with comments blanked out and the text of template literals dropped, so that
 * `import("x")` in a comment or a generated snippet is not taken for an import. String
 * literals stay: specifiers are strings.
 */
export function codeOnly(source: string): string {
  let out = "";
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    const d = source[i + 1];
    if (c === "/" && d === "/") {
      while (i < source.length && source[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && d === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? source.length : end + 2;
      out += " ";
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== c && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
      out += source.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === "`") {
      let j = i + 1;
      while (j < source.length && source[j] !== "`") j += source[j] === "\\" ? 2 : 1;
      out += "``";
      i = j + 1;
      continue;
    }
    if (c === "/" && regexMayStartAfter(out)) {
      let j = i + 1;
      let inClass = false;
      while (j < source.length && source[j] !== "\n") {
        const r = source[j];
        if (r === "\\") j++;
        else if (r === "[") inClass = true;
        else if (r === "]") inClass = false;
        else if (r === "/" && !inClass) break;
        j++;
      }
      out += "/./";
      i = j + 1;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

const KEYWORDS_BEFORE_EXPRESSION = [
  "return",
  "typeof",
  "case",
  "in",
  "of",
  "void",
  "yield",
  "await",
  "delete",
];

/** Whether a "/" after this code starts a regular expression rather than a division. */
function regexMayStartAfter(code: string): boolean {
  const tail = code.trimEnd();
  const last = tail[tail.length - 1];
  if (last === undefined) return true;
  if (/[\w$]/.test(last)) return KEYWORDS_BEFORE_EXPRESSION.includes(/[\w$]+$/.exec(tail)?.[0] ?? "");
  return !/[)\]"'`]/.test(last);
}

const SPECIFIER_PATTERNS = [
  // import x from "y"; import { a } from "y"; import type { T } from "y"; export { a } from "y"; export * from "y"
  /(?:^|[;}\s])(?:import|export)\s[^;"'`(=]*?\sfrom\s*["']([^"']+)["']/g,
  // import "y" (for its side effects)
  /(?:^|[;}\s])import\s*["']([^"']+)["']/g,
  // import("y"), also in types: typeof import("y")
  /(?:^|[^\w$.])import\s*\(\s*["']([^"']+)["']\s*\)/g,
];

/** The static and dynamic import specifiers of one TypeScript source, in order of appearance. */
export function importSpecifiers(source: string): string[] {
  const code = codeOnly(source);
  const found: Array<{ at: number; specifier: string }> = [];
  for (const pattern of SPECIFIER_PATTERNS) {
    for (const match of code.matchAll(pattern))
      found.push({ at: match.index, specifier: match[1] as string });
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.specifier);
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}

function tsFiles(root: string, folder: string): string[] {
  const dir = join(root, folder);
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...tsFiles(root, join(folder, name)));
    else if (name.endsWith(".ts")) files.push(relative(root, path).split(sep).join("/"));
  }
  return files;
}

/** Resolves a relative specifier the way Node and TypeScript do here: as written, or +.ts, or /index.ts. */
function resolveRelative(root: string, from: string, specifier: string): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}/index.ts`, base.replace(/\.js$/, ".ts")]) {
    const path = join(root, candidate);
    if (existsSync(path) && statSync(path).isFile()) return candidate;
  }
  return undefined;
}

/** The import graph of every .ts file under the source folders of the repository at root. */
export function readImportGraph(root: string, folders: readonly string[] = SOURCE_FOLDERS): ImportGraph {
  const files = folders.flatMap((folder) => tsFiles(root, folder)).sort();
  const edges: ImportEdge[] = [];
  for (const from of files) {
    for (const specifier of importSpecifiers(readFileSync(join(root, from), "utf8"))) {
      if (specifier.startsWith(".")) {
        edges.push({ from, specifier, to: resolveRelative(root, from, specifier), kind: "file" });
      } else if (specifier.startsWith("node:")) {
        edges.push({ from, specifier, to: specifier, kind: "builtin" });
      } else {
        edges.push({ from, specifier, to: packageName(specifier), kind: "package" });
      }
    }
  }
  return { files, edges };
}

/** The repository's root, from this file's place in test/support/. */
export const REPOSITORY_ROOT = join(import.meta.dirname, "..", "..");
