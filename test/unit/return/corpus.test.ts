/*
 * Both email_return implementations against one corpus (test/fixtures/return-corpus/cases.ts):
 * dist/email_return.cjs (Node) and dist/email_return.pl (Perl 5), the latter also with
 * Digest::SHA hidden so its pure-Perl SHA-256 signs. Each runs as a real process the way a
 * ~/.forward pipe runs it, with a stand-in sendmail that records its argv and stdin. Every run
 * must give the case's outcome, and all runs of a case the same bytes: stdout and stderr
 * (empty), sendmail's argv, the reply and the log line, with what differs per run (Date,
 * Message-ID, arrival time, signature, log time) normalised; each signature is checked.
 */
import { execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeHeaderBlock } from "../../../core/wire/header-block.ts";
import { headerValue, parseMessage } from "../../../core/wire/parse-headers.ts";
import { formatProbeKeyRing, keyById } from "../../../core/wire/probe-key.ts";
import { parseProbeToken } from "../../../core/wire/probe-token.ts";
import { verifyReply } from "../../../core/wire/reply-signature.ts";
import { CORPUS, type CorpusCase, keyA, probeId } from "../../fixtures/return-corpus/cases.ts";
import { writeStandInSendmail } from "../../support/stand-in-sendmail.ts";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const returnTo = "returns@scout-returns.example.com";
const root = mkdtempSync(join(tmpdir(), "scout-corpus-"));
let runNumber = 0;

interface Implementation {
  name: string;
  command: () => string[];
}
const noDigestSha = join(root, "no-digest-sha");
const IMPLEMENTATIONS: Implementation[] = [
  { name: "node", command: () => [process.execPath, join(root, "email_return.cjs")] },
  { name: "perl", command: () => [join(root, "email_return.pl")] },
  {
    name: "perl, pure-Perl SHA-256",
    command: () => ["/usr/bin/perl", "-I", noDigestSha, join(root, "email_return.pl")],
  },
];

beforeAll(() => {
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: repo, stdio: "pipe" });
  // Private copies: another test run rebuilding dist/ cannot swap a file mid-test.
  for (const file of ["email_return.cjs", "email_return.pl"]) {
    copyFileSync(join(repo, "dist", file), join(root, file));
    chmodSync(join(root, file), 0o755);
  }
  // A Digest::SHA that fails to load, as on a system whose Perl has it split out.
  mkdirSync(join(noDigestSha, "Digest"), { recursive: true });
  writeFileSync(join(noDigestSha, "Digest/SHA.pm"), 'die "Digest::SHA is not installed\\n";\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What each stand-in sendmail does after recording its argv ("missing": there is none). */
const STAND_INS: Record<string, string> = {
  ok: 'cat > "$OUT_DIR/stdin"\nexit 0\n',
  fails: 'cat > "$OUT_DIR/stdin"\necho "sendmail: fatal: queue file write error" >&2\nexit 75\n',
  "reads-nothing": "exit 0\n",
  killed: 'cat > "$OUT_DIR/stdin"\nkill -TERM $$\n',
};

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  sendmailArgv?: string;
  reply?: string;
  log: string;
}

async function runCase(
  implementation: Implementation,
  testCase: CorpusCase,
  input: Buffer,
): Promise<Outcome> {
  runNumber += 1;
  const dir = join(root, `run-${runNumber}`);
  mkdirSync(dir);
  const keyFile = join(dir, "probe.key");
  writeFileSync(keyFile, testCase.keyText ?? formatProbeKeyRing(testCase.ring ?? [keyA]));
  chmodSync(keyFile, testCase.keyMode ?? 0o600);
  const sendmail = join(dir, "sendmail");
  const standIn = STAND_INS[testCase.sendmail ?? "ok"];
  if (standIn !== undefined) {
    writeStandInSendmail(sendmail, standIn);
  }
  const configPath = join(dir, "return.json");
  const config: Record<string, unknown> = {
    returnTo,
    keyFile,
    sendmail,
    maxBytes: 1_048_576,
    logFile: join(dir, "return.log"),
    ...testCase.config,
  };
  for (const [key, value] of Object.entries(config)) if (value === null) delete config[key];
  // configText may name the run's files: KEY, SENDMAIL and LOG.
  const configText = testCase.configText
    ?.replace("KEY", keyFile)
    .replace("SENDMAIL", sendmail)
    .replace("LOG", join(dir, "return.log"));
  writeFileSync(configPath, configText ?? JSON.stringify(config));

  const env: Record<string, string> = {};
  const wanted = {
    PATH: "/usr/bin:/bin",
    LANG: "C",
    HOME: dir,
    USER: "probe",
    LOGNAME: "probe",
    DOMAIN: "mx1.example.com",
    OUT_DIR: dir,
    ...testCase.env,
  };
  for (const [key, value] of Object.entries(wanted)) if (value !== undefined) env[key] = value;
  const [command = "", ...prefix] = implementation.command();
  const child = spawn(command, [...prefix, ...(testCase.args?.(configPath) ?? ["--config", configPath])], {
    cwd: "/",
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  // The child may exit before reading everything (a bad config): EPIPE is fine then.
  child.stdin.on("error", () => {});
  child.stdin.end(input);
  const code = await exited;
  const read = (name: string) =>
    existsSync(join(dir, name)) ? readFileSync(join(dir, name), "latin1") : undefined;
  return {
    code,
    stdout,
    stderr,
    sendmailArgv: read("argv"),
    reply: read("stdin"),
    // Each run has its own directory, named in messages about its files.
    log: (read("return.log") ?? "")
      .replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /gm, "<time> ")
      .replaceAll(dir, "<dir>"),
  };
}

/** Checks the reply's signature against the probe, then replaces what differs per run. */
function normalisedReply(reply: string, testCase: CorpusCase, input: Buffer): string {
  const parsed = parseMessage(Buffer.from(reply, "latin1"));
  const h = (name: string) => headerValue(parsed.fields, name) ?? "";
  const probeLines = parseMessage(input).headerLines.map((line) => line.replace(/[^\t\x20-\x7e]/g, "?"));
  const token = parseProbeToken(h("X-Scout-Probe"));
  const key = keyById(testCase.ring ?? [keyA], token.keyId);
  if (key === undefined)
    throw new Error(`the reply's token names key ${token.keyId}, not in the case's ring`);
  const reported = decodeHeaderBlock(reply) ?? [];
  // Cut at maxBytes inside the header block, the last reported line may be cut too.
  reported.forEach((line, index) => {
    if (index < reported.length - 1) expect(line).toBe(probeLines[index]);
    else expect(probeLines[index]?.startsWith(line)).toBe(true);
  });
  const signed = verifyReply(h("X-Scout-Reply"), key, { probeId, headerLines: reported });
  expect(signed.arrivedAtMs).toBe(Number(h("X-Scout-Arrived")));
  expect(h("Date")).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/);
  expect(h("Message-ID")).toMatch(/^<scout-return\.[A-Za-z0-9_-]{16}@[A-Za-z0-9.-]+>$/);
  return reply
    .replace(/^Date: .*$/m, "Date: <date>")
    .replace(/^Message-ID: <scout-return\.[^@]+@/m, "Message-ID: <scout-return.<random>@")
    .replace(/^X-Scout-Arrived: \d+$/m, "X-Scout-Arrived: <arrived>")
    .replace(
      /^X-Scout-Reply: (v\d\.(?:[A-Za-z0-9_-]+\.)?[A-Za-z0-9_-]+)\.\d+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+$/m,
      "X-Scout-Reply: $1.<arrived>.$2.<mac>",
    );
}

/** A token's age in a log detail differs by the milliseconds between runs. */
function normalisedLog(log: string): string {
  return log.replace(/probe token is \d+ ms/, "probe token is <n> ms");
}

describe("email_return corpus: Node and Perl behave identically", () => {
  it("holds at least 20 cases, each with a unique name", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(20);
    expect(new Set(CORPUS.map((c) => c.name)).size).toBe(CORPUS.length);
  });

  it.each(CORPUS.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
    const input = testCase.input();
    const results = [];
    for (const implementation of IMPLEMENTATIONS) {
      const outcome = await runCase(implementation, testCase, input);
      const { expected } = testCase;
      const label = `${implementation.name}: ${testCase.name}`;
      expect({ label, code: outcome.code, stdout: outcome.stdout, stderr: outcome.stderr }).toEqual({
        label,
        code: expected.code,
        stdout: "",
        stderr: "",
      });
      // A sendmail that failed still read the reply; one that read nothing has none to show.
      const readReply =
        ["fails", "killed"].includes(testCase.sendmail ?? "") ||
        (expected.replied && testCase.sendmail !== "reads-nothing");
      expect(outcome.reply !== undefined, `${label}: sendmail read a reply`).toBe(readReply);
      if (expected.log === undefined) expect(outcome.log, label).toBe("");
      else expect(outcome.log, label).toMatch(new RegExp(`^<time> ${expected.log} `));
      if (readReply) expect(outcome.sendmailArgv, label).toBe(`-oi\n--\n${returnTo}\n`);
      results.push({
        argv: outcome.sendmailArgv,
        reply: outcome.reply === undefined ? undefined : normalisedReply(outcome.reply, testCase, input),
        log: normalisedLog(outcome.log),
      });
    }
    expect(results[1], `perl and node: ${testCase.name}`).toEqual(results[0]);
    expect(results[2], `pure-Perl SHA-256 and node: ${testCase.name}`).toEqual(results[0]);
  });
});
