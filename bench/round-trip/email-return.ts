/*
 * email_return's own cost per message: wall time (median, p95) and peak RSS of a built
 * email_return (dist/email_return.cjs run by Node, or dist/email_return.pl run by its own
 * #!/usr/bin/perl) answering a valid probe through a stand-in sendmail, and its peak RSS on a
 * 50 MB message (it must read and discard, never buffer).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildProbe } from "../../core/roundtrip/probe-message.ts";
import { formatProbeKeyRing, newProbeKey } from "../../core/wire/probe-key.ts";
import { newProbeId } from "../../core/wire/probe-token.ts";
import { median, percentile } from "../stats.ts";

export interface EmailReturnResult {
  readonly runs: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly peakRssMb: number;
  readonly peakRss50MbInputMb: number;
}

/** `interpreter` runs `script`; null runs the script itself, as its .forward line does (Perl). */
export async function benchEmailReturn(
  script: string,
  runs = 20,
  interpreter: string | null = process.execPath,
): Promise<EmailReturnResult> {
  const command = interpreter === null ? [script] : [interpreter, script];
  const [program = script, ...programArgs] = command;
  const dir = mkdtempSync(join(tmpdir(), "scout-bench-return-"));
  try {
    const key = { id: "bench", key: newProbeKey() };
    writeFileSync(join(dir, "probe.key"), formatProbeKeyRing([key]), { mode: 0o600 });
    writeFileSync(join(dir, "sendmail"), "#!/bin/sh\ncat > /dev/null\n");
    chmodSync(join(dir, "sendmail"), 0o755);
    const config = join(dir, "return.json");
    writeFileSync(
      config,
      JSON.stringify({
        returnTo: "returns@scout-returns.example.com",
        keyFile: join(dir, "probe.key"),
        sendmail: join(dir, "sendmail"),
      }),
    );
    const probe = await buildProbe({
      probeId: newProbeId(),
      targetId: "bench",
      to: "probe@mx.example.com",
      from: "monitor@scout-returns.example.com",
      inboundDomain: "scout-returns.example.com",
      sentAtMs: Date.now(),
      key,
    });
    const env = {
      PATH: "/usr/bin:/bin",
      SENDER: probe.envelope.from,
      USER: "probe",
      DOMAIN: "mx.example.com",
    };
    // Wall time: process.hrtime around spawnSync of the script itself (no /usr/bin/time in between).
    const timed = (input: Buffer) => {
      const began = process.hrtime.bigint();
      const result = spawnSync(program, [...programArgs, "--config", config], { input, env });
      const ms = Number(process.hrtime.bigint() - began) / 1e6;
      if (result.status !== 0) throw new Error(`email_return exited ${result.status}: ${result.stderr}`);
      return ms;
    };
    // Peak RSS: a separate run under /usr/bin/time -f %M (kB).
    const rss = (input: Buffer) => {
      const result = spawnSync("/usr/bin/time", ["-f", "%M", ...command, "--config", config], {
        input,
        env,
      });
      if (result.status !== 0) throw new Error(`email_return exited ${result.status}: ${result.stderr}`);
      return Number(result.stderr.toString().trim().split(/\s+/).at(-1)) / 1024;
    };
    timed(probe.raw); // warm the page cache once, not counted
    const times = Array.from({ length: runs }, () => timed(probe.raw));
    const rssMb = Array.from({ length: runs }, () => rss(probe.raw));
    const bigFile = join(dir, "big.eml");
    writeFileSync(bigFile, Buffer.concat([probe.raw, Buffer.alloc(50 * 1024 * 1024, "x\r\n".repeat(1))]));
    const big = spawnSync(
      "bash",
      ["-c", `/usr/bin/time -f '%M' ${command.join(" ")} --config ${config} < ${bigFile}`],
      { env },
    );
    if (big.status !== 0) throw new Error(`email_return exited ${big.status} on 50 MB`);
    const bigRss = Number(big.stderr.toString().trim().split(/\s+/).at(-1)) / 1024;
    return {
      runs,
      medianMs: median(times) ?? Number.NaN,
      p95Ms: percentile(times, 95) ?? Number.NaN,
      peakRssMb: Math.max(...rssMb),
      peakRss50MbInputMb: bigRss,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
