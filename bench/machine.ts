import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, release, totalmem } from "node:os";

function run(program: string, args: string[]): string {
  try {
    return execFileSync(program, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch {
    return "?";
  }
}

function osName(): string {
  if (!existsSync("/etc/os-release")) return "?";
  const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync("/etc/os-release", "utf8"));
  return match?.[1] ?? "?";
}

function debVersion(name: string): string {
  // `dpkg-query -W NAME` prints "NAME<TAB>VERSION".
  return run("dpkg-query", ["-W", name]).split("\t")[1] ?? "?";
}

/** Lines describing the machine and the versions measured, for the report. */
export function machineLines(): string[] {
  const model = cpus()[0]?.model ?? "?";
  return [
    `date: ${new Date().toISOString()}`,
    `machine: ${availableParallelism()} CPUs (nproc), ${model}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `system: ${osName()}, kernel ${release()}, Node ${process.version}`,
    `servers: Postfix ${run("postconf", ["-h", "mail_version"])}, Dovecot ${run("dovecot", ["--version"])}, OpenSSL ${run("openssl", ["version"]).replace(/^OpenSSL /, "")}`,
    `peers: monitoring-plugins ${debVersion("monitoring-plugins-basic")}, prometheus-blackbox-exporter ${debVersion("prometheus-blackbox-exporter")}`,
  ];
}
