import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { parseProberEvent } from "../../../lambdas/events/prober-event.ts";
import { synthStack } from "../../support/synth-stack.ts";

/*
 * docs/aws.md's commands, as a new user runs them: the shell variables they use are the stack's
 * outputs, the line that loads the outputs into the shell survives any value, and the Scheduled
 * Event the smoke test writes is one the prober accepts. No AWS account: `aws` is a stand-in.
 */

const REPOSITORY = join(import.meta.dirname, "../../..");
const GUIDE = readFileSync(join(REPOSITORY, "docs/aws.md"), "utf8");
/** The README's AWS part uses the same variables. */
const README = readFileSync(join(REPOSITORY, "README.md"), "utf8");
const run = promisify(execFile);

/** The one line of the guide that starts with `start`. */
function guideLine(start: string): string {
  const lines = GUIDE.split("\n").filter((line) => line.startsWith(start));
  expect(lines, start).toHaveLength(1);
  return lines[0] as string;
}

/** The guide's lines from the one starting with `first` to the next one equal to `last`. */
function guideLines(first: string, last: string): string {
  const lines = GUIDE.split("\n");
  const from = lines.findIndex((line) => line.startsWith(first));
  const to = lines.indexOf(last, from);
  expect(from, first).toBeGreaterThanOrEqual(0);
  expect(to, last).toBeGreaterThan(from);
  return lines.slice(from, to + 1).join("\n");
}

describe("docs/aws.md, as a new user runs it", () => {
  let outputs: string[];
  beforeAll(() => {
    outputs = Object.keys(synthStack().template.findOutputs("*"));
  });

  it.each([
    ["docs/aws.md", GUIDE],
    ["README.md", README],
  ])("%s uses as shell variables ($ProberFunctionName, ...) only the stack's outputs", (_file, text) => {
    // Outputs are PascalCase; environment variables (AWS_REGION) are not, nor the one-liner's
    // JavaScript (${String(value)}).
    const used = new Set(
      [...text.matchAll(/\$\{?([A-Z][a-z][A-Za-z0-9]*)\b(?!\()/g)].map((match) => match[1]),
    );
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((name) => !outputs.includes(name as string))).toEqual([]);
  });

  it("loads every output into the shell with its value intact, quotes and spaces included", async () => {
    const directory = mkdtempSync(join(tmpdir(), "scout-guide-"));
    const values = Object.fromEntries(
      outputs.map((name) => [name, `${name} it's "quoted" $HOME \`date\` \\`]),
    );
    writeFileSync(join(directory, "cdk-outputs.json"), JSON.stringify({ EmailScout: values }));
    const print = outputs.map((name) => `printf '%s\\0' "$${name}"`).join("\n");
    const { stdout } = await run("bash", ["-c", `${guideLine('eval "$(node -e')}\n${print}`], {
      cwd: directory,
    });
    expect(stdout.split("\0").slice(0, -1)).toEqual(Object.values(values));
  });

  it("writes a Scheduled Event for the smoke test that the prober accepts as one run of every target", async () => {
    const directory = mkdtempSync(join(tmpdir(), "scout-guide-"));
    const aws = join(directory, "aws");
    writeFileSync(
      aws,
      [
        "#!/bin/sh",
        'case "$*" in',
        '  "sts get-caller-identity --query Account --output text") echo 123456789012 ;;',
        '  "configure get region") echo eu-west-1 ;;',
        '  *) echo "unexpected: aws $*" >&2; exit 2 ;;',
        "esac",
      ].join("\n"),
    );
    chmodSync(aws, 0o755);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${directory}:${process.env.PATH}` };
    delete env.AWS_REGION;
    await run("bash", ["-c", guideLines("cat > scheduled-event.json <<EOF", "EOF")], { cwd: directory, env });
    const event = JSON.parse(readFileSync(join(directory, "scheduled-event.json"), "utf8"));
    expect(event).toMatchObject({ account: "123456789012", region: "eu-west-1" });
    const invocation = parseProberEvent(event);
    expect(invocation.shard).toBeUndefined();
    expect(Math.abs(Date.parse(invocation.scheduledAt) - Date.now())).toBeLessThan(60_000);
  });
});
