import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, get } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Outcome } from "../pool.ts";

export const BLACKBOX_BINARY = "/usr/bin/prometheus-blackbox-exporter";

type Step = { expect: string } | { send: string } | { starttls: true };

/** Lines are sent with "\r" here: the exporter adds "\n", so each line ends CRLF as RFC 5321 wants. */
const send = (line: string): Step => ({ send: `${line}\r` });
const expect = (pattern: string): Step => ({ expect: pattern });
const EHLO = send("EHLO scout-bench.test");

/**
 * One tcp module per service, each dialogue as close to ours as the prober allows: greeting,
 * capabilities, STARTTLS, handshake, capabilities again, QUIT (not awaited: the exporter
 * closes at once, which only helps its time).
 */
const DIALOGUES: Record<string, { tls: boolean; steps: Step[] }> = {
  smtp_starttls: {
    tls: false,
    steps: [
      expect("^220 "),
      EHLO,
      expect("^250[ -]STARTTLS"),
      expect("^250 "),
      send("STARTTLS"),
      expect("^220 "),
      { starttls: true },
      EHLO,
      expect("^250 "),
      send("QUIT"),
    ],
  },
  smtps: { tls: true, steps: [expect("^220 "), EHLO, expect("^250 "), send("QUIT")] },
  imap_starttls: {
    tls: false,
    steps: [
      expect("^\\* OK .*STARTTLS"),
      send("a1 STARTTLS"),
      expect("^a1 OK"),
      { starttls: true },
      send("a2 CAPABILITY"),
      expect("^a2 OK"),
      send("a3 LOGOUT"),
    ],
  },
  imaps: { tls: true, steps: [expect("^\\* OK"), send("a1 LOGOUT")] },
  pop3_starttls: {
    tls: false,
    steps: [
      expect("^\\+OK"),
      send("CAPA"),
      expect("^STLS"),
      expect("^\\.$"),
      send("STLS"),
      expect("^\\+OK"),
      { starttls: true },
      send("CAPA"),
      expect("^\\.$"),
      send("QUIT"),
    ],
  },
  pop3s: { tls: true, steps: [expect("^\\+OK"), send("CAPA"), expect("^\\.$"), send("QUIT")] },
};

/** The exporter's config file. YAML is a superset of JSON, so JSON it is: no escaping doubts. */
export function blackboxConfig(caFile: string): string {
  const modules = Object.fromEntries(
    Object.entries(DIALOGUES).map(([name, { tls, steps }]) => [
      name,
      {
        prober: "tcp",
        timeout: "10s",
        tcp: {
          preferred_ip_protocol: "ip4",
          ip_protocol_fallback: false,
          tls,
          tls_config: { ca_file: caFile },
          query_response: steps,
        },
      },
    ]),
  );
  return `${JSON.stringify({ modules }, null, 2)}\n`;
}

export interface Probe {
  readonly ok: boolean;
  /** probe_duration_seconds, ms. */
  readonly durationMs?: number;
  readonly error?: string;
}

export class Blackbox {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly clockTicks = clockTicksPerSecond();

  private constructor(
    readonly child: ChildProcess,
    readonly pid: number,
    readonly port: number,
    readonly logFile: string,
  ) {}

  /** Starts our own exporter on 127.0.0.1:<free port> with a generated config in `dir`. */
  static async start(dir: string, caFile: string): Promise<Blackbox> {
    const configFile = join(dir, "blackbox.yml");
    writeFileSync(configFile, blackboxConfig(caFile));
    const check = spawnSyncCheck(configFile);
    if (check) throw new Error(`blackbox_exporter rejects its config: ${check}`);
    const port = await freePort();
    const logFile = join(dir, "blackbox.log");
    const log = openSync(logFile, "a");
    const child = spawn(
      BLACKBOX_BINARY,
      [`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
      { stdio: ["ignore", log, log] },
    );
    closeSync(log);
    if (child.pid === undefined) throw new Error(`cannot start ${BLACKBOX_BINARY}`);
    const exporter = new Blackbox(child, child.pid, port, logFile);
    await exporter.waitReady();
    return exporter;
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) break;
      const status = await this.httpGet("/-/healthy")
        .then((r) => r.status)
        .catch(() => 0);
      if (status === 200) return;
      await sleep(100);
    }
    const tail = readFileSync(this.logFile, "utf8").slice(-500);
    throw new Error(`blackbox_exporter did not become ready on port ${this.port}: ${tail}`);
  }

  async probe(module: string, target: string): Promise<Probe> {
    const query = new URLSearchParams({ module, target });
    const { status, body } = await this.httpGet(`/probe?${query}`);
    if (status !== 200) return { ok: false, error: `HTTP ${status}: ${body.slice(0, 100)}` };
    const success = metric(body, "probe_success");
    const seconds = metric(body, "probe_duration_seconds");
    if (success !== 1) {
      const regex = metric(body, "probe_failed_due_to_regex") === 1 ? " (regex)" : "";
      return { ok: false, error: `probe_success ${success}${regex}` };
    }
    return { ok: true, ...(seconds === undefined ? {} : { durationMs: seconds * 1000 }) };
  }

  async probeOutcome(module: string, target: string): Promise<Outcome> {
    const probe = await this.probe(module, target);
    return probe.ok ? { ok: true } : { ok: false, error: probe.error ?? "failed" };
  }

  /**
   * The exporter's CPU time so far, ms: the sum of its threads' run time from
   * /proc/<pid>/task/<tid>/schedstat (nanoseconds; Go keeps its threads), falling back to
   * utime + stime from /proc/<pid>/stat (clock ticks).
   */
  cpuMs(): number {
    try {
      let ns = 0;
      for (const tid of readdirSync(`/proc/${this.pid}/task`)) {
        const text = readFileSync(`/proc/${this.pid}/task/${tid}/schedstat`, "utf8");
        ns += Number(text.split(" ")[0]);
      }
      if (Number.isFinite(ns) && ns > 0) return ns / 1e6;
    } catch {
      // fall through to /proc/<pid>/stat
    }
    const stat = readFileSync(`/proc/${this.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) / this.clockTicks) * 1000;
  }

  /** Stops our exporter by its pid: TERM, then KILL after 5 s. */
  async stop(): Promise<void> {
    this.agent.destroy();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    process.kill(this.pid, "SIGTERM");
    const timer = setTimeout(() => {
      if (this.child.exitCode === null) process.kill(this.pid, "SIGKILL");
    }, 5_000);
    await exited;
    clearTimeout(timer);
  }

  /** Synchronous last resort (process exit, signals). */
  killNow(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        process.kill(this.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  private httpGet(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = get(
        { host: "127.0.0.1", port: this.port, path, agent: this.agent, timeout: 20_000 },
        (response) => {
          let body = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => {
            body += chunk;
          });
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
          response.on("error", reject);
        },
      );
      request.on("timeout", () => request.destroy(new Error("HTTP timeout")));
      request.on("error", reject);
    });
  }
}

/** A gauge's value from Prometheus text format. */
export function metric(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return match ? Number(match[1]) : undefined;
}

function spawnSyncCheck(configFile: string): string | undefined {
  try {
    execFileSync(BLACKBOX_BINARY, [`--config.file=${configFile}`, "--config.check"], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    const e = error as { stderr?: Buffer; message: string };
    return e.stderr?.toString().slice(-400) || e.message;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}
