import { spawn } from "node:child_process";

/**
 * Runs `program args` `runs` times in a row inside one bash, then reads bash's `times`
 * builtin: the children's user + system CPU (getrusage RUSAGE_CHILDREN), summed over the
 * batch so its millisecond display rounds once, not once per run. The loop uses only
 * builtins, so the only children are the runs themselves. Each run's output and exit code
 * come back in order.
 */
export interface BatchRun {
  readonly output: string;
  readonly exitCode: number;
}

const MARK = "@@scout-bench-rc=";

const SCRIPT = `n=$1; shift
for ((i = 0; i < n; i++)); do "$@" </dev/null 2>&1; printf '\\n${MARK}%d\\n' "$?"; done
times`;

export function runBatch(
  program: string,
  args: readonly string[],
  runs: number,
  timeoutMs: number,
): Promise<{ runs: BatchRun[]; childCpuMs: number | undefined }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", SCRIPT, "bench-batch", String(runs), program, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`batch of ${program} ended with ${signal ?? code}: ${err.slice(0, 300)}`));
        return;
      }
      resolve(parseBatch(out));
    });
  });
}

function parseBatch(out: string): { runs: BatchRun[]; childCpuMs: number | undefined } {
  const runs: BatchRun[] = [];
  const pattern = new RegExp(`\\n?${MARK}(\\d+)\\n`, "g");
  let start = 0;
  for (let match = pattern.exec(out); match; match = pattern.exec(out)) {
    runs.push({ output: out.slice(start, match.index), exitCode: Number(match[1]) });
    start = match.index + match[0].length;
  }
  // `times` prints two lines: the shell's own "user sys", then its children's.
  const lines = out.slice(start).trim().split("\n");
  return { runs, childCpuMs: cpuOfTimesLine(lines[1]) };
}

/** "0m0.123s 0m0.045s" -> 168 (ms). */
function cpuOfTimesLine(line: string | undefined): number | undefined {
  if (!line) return undefined;
  const parts = [...line.matchAll(/(\d+)m([\d.]+)s/g)];
  if (parts.length !== 2) return undefined;
  return parts.reduce((sum, part) => sum + (Number(part[1]) * 60 + Number(part[2])) * 1000, 0);
}
