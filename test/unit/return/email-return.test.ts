/*
 * The real executable: dist/email_return.cjs as built by scripts/build.mjs, run the way a
 * ~/.forward pipe runs it, with a stand-in sendmail that records its argv and stdin.
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
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeHeaderBlock } from "../../../core/wire/header-block.ts";
import { headerValue, parseMessage } from "../../../core/wire/parse-headers.ts";
import { formatProbeKeyRing } from "../../../core/wire/probe-key.ts";
import { verifyReply } from "../../../core/wire/reply-signature.ts";
import { fixtureKey, type ProbeOptions, probeId, probeMessage } from "../../support/probe-fixture.ts";
import { writeStandInSendmail } from "../../support/stand-in-sendmail.ts";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const TIME = "/usr/bin/time";
const returnTo = "returns@scout-returns.example.com";
const root = mkdtempSync(join(tmpdir(), "scout-return-"));
let executable: string;
let caseNumber = 0;

beforeAll(() => {
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: repo, stdio: "pipe" });
  // A private copy: another test run rebuilding dist/ cannot swap the file mid-test.
  executable = join(root, "email_return.cjs");
  copyFileSync(join(repo, "dist/email_return.cjs"), executable);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface RunOptions {
  input: string | (() => AsyncIterable<Buffer | string>);
  env?: Record<string, string>;
  config?: Record<string, unknown>;
  configText?: string;
  args?: (configPath: string) => string[];
  sendmailExit?: number;
  sendmailMissing?: boolean;
  keyMode?: number;
  noKey?: boolean;
  nodeArgs?: string[];
  measureMemory?: boolean;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The stand-in sendmail's argv, one per line; undefined when it never ran. */
  sendmailArgv?: string;
  sendmailInput?: string;
  log: string;
  peakKb?: number;
}

async function runReturn(options: RunOptions): Promise<RunResult> {
  caseNumber += 1;
  const dir = join(root, `case-${caseNumber}`);
  mkdirSync(dir);
  const keyFile = join(dir, "probe.key");
  if (options.noKey !== true) {
    writeFileSync(keyFile, formatProbeKeyRing([fixtureKey]));
    chmodSync(keyFile, options.keyMode ?? 0o600);
  }
  const sendmail = join(dir, "sendmail");
  if (options.sendmailMissing !== true) {
    writeStandInSendmail(sendmail, `cat > "$OUT_DIR/stdin"\nexit \${EXIT_CODE:-0}\n`);
  }
  const logFile = join(dir, "return.log");
  const configPath = join(dir, "return.json");
  const config = {
    returnTo,
    keyFile,
    sendmail,
    maxBytes: 1_048_576,
    maxAgeSeconds: 86_400,
    logFile,
    ...options.config,
  };
  writeFileSync(configPath, options.configText ?? JSON.stringify(config));

  const args = [
    ...(options.nodeArgs ?? []),
    executable,
    ...(options.args?.(configPath) ?? ["--config", configPath]),
  ];
  const timeFile = join(dir, "time");
  const measure = options.measureMemory === true && existsSync(TIME);
  const [command, argv] = measure
    ? [TIME, ["-o", timeFile, "-f", "%M", process.execPath, ...args]]
    : [process.execPath, args];
  const child = spawn(command, argv, {
    cwd: "/",
    env: {
      PATH: "/usr/bin:/bin",
      LANG: "C",
      HOME: dir,
      USER: "probe",
      LOGNAME: "probe",
      DOMAIN: "mx1.example.com",
      RECIPIENT: "probe@mx1.example.com",
      OUT_DIR: dir,
      EXIT_CODE: String(options.sendmailExit ?? 0),
      ...options.env,
    },
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
    child.on("close", (code) => resolve(code));
  });
  const source =
    typeof options.input === "string" ? Readable.from([options.input]) : Readable.from(options.input());
  // The child may exit before reading everything (e.g. on a bad config): EPIPE is fine then.
  await pipeline(source, child.stdin).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
  const code = await exited;
  const read = (name: string) =>
    existsSync(join(dir, name)) ? readFileSync(join(dir, name), "utf8") : undefined;
  const time = read("time");
  return {
    code,
    stdout,
    stderr,
    sendmailArgv: read("argv"),
    sendmailInput: read("stdin"),
    log: read("return.log") ?? "",
    ...(time === undefined ? {} : { peakKb: Number(time.trim().split("\n").at(-1)) }),
  };
}

function expectSilent(result: RunResult): void {
  expect(result.stdout).toBe("");
  expect(result.stderr).toBe("");
}

describe("email_return executable", () => {
  it.each<[string, ProbeOptions]>([
    ["as Postfix delivers it (From_ line, LF)", {}],
    ["without a From_ line, with CRLF", { mboxFromLine: null, lineEnd: "\r\n" }],
  ])("replies to a valid probe %s", async (_name, probeOptions) => {
    const probe = probeMessage(probeOptions);
    const startedAtMs = Date.now();
    const result = await runReturn({ input: probe, env: { SENDER: `bounces+${probeId}@scout.example.net` } });
    expectSilent(result);
    expect(result.code).toBe(0);
    expect(result.sendmailArgv).toBe(`-oi\n--\n${returnTo}\n`);

    const reply = parseMessage(Buffer.from(result.sendmailInput ?? ""));
    const h = (name: string) => headerValue(reply.fields, name);
    const probeHeaders = parseMessage(Buffer.from(probe));
    expect(h("From")).toBe("probe@mx1.example.com");
    expect(h("To")).toBe(`<${returnTo}>`);
    expect(h("Subject")).toBe(`Re: Email Scout probe ${probeId}`);
    expect(h("Date")).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(h("Message-ID")).toMatch(/^<scout-return\.[A-Za-z0-9_-]+@[A-Za-z0-9.-]+>$/);
    expect(h("In-Reply-To")).toBe(`<${probeId}@scout.example.net>`);
    expect(h("References")).toBe(`<${probeId}@scout.example.net>`);
    expect(h("Auto-Submitted")).toBe("auto-replied");
    expect(h("X-Scout-Probe")).toBe(headerValue(probeHeaders.fields, "X-Scout-Probe")?.replace(/\s/g, ""));
    expect(Number(h("X-Scout-Arrived"))).toBeGreaterThanOrEqual(startedAtMs);
    expect(Number(h("X-Scout-Arrived"))).toBeLessThanOrEqual(Date.now());
    expect(h("X-Scout-Return-Version")).toBe("2");
    expect(h("MIME-Version")).toBe("1.0");
    expect(h("Content-Type")).toBe("text/plain; charset=us-ascii");
    // The whole header block, trace fields first, folding kept, line ends normalised.
    expect(decodeHeaderBlock(result.sendmailInput ?? "")).toEqual(probeHeaders.headerLines);
    // Signed by the built script (its lean SHA-256 and HMAC), checked with node:crypto.
    const signed = verifyReply(h("X-Scout-Reply") ?? "", fixtureKey, {
      probeId,
      headerLines: probeHeaders.headerLines,
    });
    expect(signed.arrivedAtMs).toBe(Number(h("X-Scout-Arrived")));
    expect(probeHeaders.headerLines.filter((l) => l.startsWith("Received:"))).toHaveLength(2);

    expect(result.log).toMatch(
      new RegExp(
        `^\\S+Z replied reason=valid-probe probe=${probeId} message-id=<${probeId}@scout.example.net>\\n$`,
      ),
    );
  });

  it.each<[string, string, Record<string, string>]>([
    ["null-sender", probeMessage(), { SENDER: "" }],
    ["mailer-daemon", probeMessage({ mboxFromLine: "From MAILER-DAEMON  Tue Nov 28 12:00:00 2023" }), {}],
    ["auto-submitted", probeMessage().replace("auto-generated", "auto-replied"), {}],
    ["list-mail", probeMessage({ extraHeaders: ["List-Id: <probes.lists.example.org>"] }), {}],
    ["bulk-precedence", probeMessage({ extraHeaders: ["Precedence: bulk"] }), {}],
    ["not-a-probe", probeMessage({ token: null }), {}],
    ["token-malformed", probeMessage({ token: "v1.garbage" }), {}],
    ["token-bad-signature", probeMessage({ key: { ...fixtureKey, key: Buffer.alloc(32, 9) } }), {}],
    ["token-expired", probeMessage({ sentAtMs: Date.now() - 86_400_000 - 60_000 }), {}],
    ["token-from-future", probeMessage({ sentAtMs: Date.now() + 11 * 60_000 }), {}],
  ])("ignores %s: exit 0, no sendmail, reason logged", async (reason, input, env) => {
    const result = await runReturn({ input, env });
    expectSilent(result);
    expect(result.code).toBe(0);
    expect(result.sendmailArgv).toBeUndefined();
    expect(result.log).toMatch(new RegExp(`^\\S+Z ignored reason=${reason} `));
    expect(result.log.split("\n")).toHaveLength(2);
  });

  it("tempfails (75) when sendmail exits 1", async () => {
    const result = await runReturn({ input: probeMessage(), sendmailExit: 1 });
    expectSilent(result);
    expect(result.code).toBe(75);
    expect(result.sendmailArgv).toBeDefined();
    expect(result.log).toMatch(
      / tempfail reason=sendmail-failed probe=PrObE_id-12345678 .* detail="sendmail exited 1"/,
    );
  });

  it("tempfails (75) when sendmail is missing", async () => {
    const result = await runReturn({ input: probeMessage(), sendmailMissing: true });
    expectSilent(result);
    expect(result.code).toBe(75);
    expect(result.log).toMatch(/ tempfail reason=sendmail-failed .*ENOENT/);
  });

  it.each<[string, Partial<RunOptions>, RegExp | undefined]>([
    [
      "an unknown config key",
      { config: { replyTo: "x@y.example" } },
      /tempfail reason=bad-config .*unknown key \\"replyTo\\"/,
    ],
    [
      "a bad returnTo",
      { config: { returnTo: "a@b.example, c@d.example" } },
      /tempfail reason=bad-config .*"returnTo\\" must be/,
    ],
    ["config that is not JSON", { configText: "{" }, undefined],
    ["a missing config file", { args: (path) => ["--config", `${path}.absent`] }, undefined],
    ["no --config argument", { args: () => [] }, undefined],
    ["a stray argument", { args: (path) => ["--config", path, "-v"] }, undefined],
    ["a missing key file", { noKey: true }, /tempfail reason=bad-key-file .*does not exist/],
    ["a group-readable key file", { keyMode: 0o640 }, /tempfail reason=bad-key-file .*chmod 600/],
  ])("tempfails (75) on %s, and logs it when it can", async (_name, options, logged) => {
    const result = await runReturn({ input: probeMessage(), ...options });
    expectSilent(result);
    expect(result.code).toBe(75);
    expect(result.sendmailArgv).toBeUndefined();
    if (logged === undefined) expect(result.log).toBe("");
    else expect(result.log).toMatch(logged);
  });

  it("answers a 50 MB message in bounded memory", async () => {
    const megabyte = Buffer.alloc(
      1024 * 1024,
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n",
    );
    const nodeArgs = ["--max-old-space-size=64"];
    const small = await runReturn({ input: probeMessage(), nodeArgs, measureMemory: true });
    const big = await runReturn({
      nodeArgs,
      measureMemory: true,
      input: async function* () {
        yield probeMessage({ body: "" });
        for (let i = 0; i < 50; i += 1) yield megabyte;
      },
    });
    expectSilent(big);
    expect(big.code).toBe(0);
    expect(headerValue(parseMessage(Buffer.from(big.sendmailInput ?? "")).fields, "X-Scout-Probe")).toMatch(
      /^v2\.k1\./,
    );
    if (small.peakKb !== undefined && big.peakKb !== undefined) {
      // Streaming measured +32 MB (64 KB stdin chunks are garbage until V8's external-memory
      // GC kicks in); holding the message costs that plus 50 MB or more (measured +210 MB).
      expect(big.peakKb - small.peakKb).toBeLessThan(64 * 1024);
    }
  });
});
