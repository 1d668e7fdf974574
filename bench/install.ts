import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BLACKBOX_BINARY } from "./peers/blackbox.ts";
import { PLUGIN_DIR } from "./services.ts";

const PACKAGES = ["monitoring-plugins-standard", "prometheus-blackbox-exporter"];
const NEEDED = [
  ...["check_smtp", "check_ssmtp", "check_imap", "check_simap", "check_pop", "check_spop"].map((name) =>
    join(PLUGIN_DIR, name),
  ),
  BLACKBOX_BINARY,
];
const POLICY_RC_D = "/usr/sbin/policy-rc.d";
const POLICY_MARK = "temporary policy-rc.d from email-scout bench/install.ts (removed after install)";

/**
 * Installs the peers from Debian's packages when any is missing. While installing, a temporary
 * policy-rc.d (only when none exists) keeps the postinst from starting Debian's own
 * blackbox_exporter service on :9115: the bench runs its own instance.
 */
export function ensurePeers(log: (line: string) => void): void {
  const missing = NEEDED.filter((path) => !existsSync(path));
  if (missing.length === 0) return;
  log(`installing ${PACKAGES.join(" ")} (missing: ${missing.join(", ")})`);
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy) writeFileSync(POLICY_RC_D, `#!/bin/sh\n# ${POLICY_MARK}\nexit 101\n`, { mode: 0o755 });
  try {
    if (!aptInstall()) {
      log("apt-get install failed; refreshing the package lists once (apt-get update) and retrying");
      execFileSync("apt-get", ["-q", "update"], { stdio: ["ignore", "ignore", "inherit"] });
      if (!aptInstall(true)) throw new Error(`apt-get install ${PACKAGES.join(" ")} failed`);
    }
  } finally {
    if (ownPolicy && readFileSync(POLICY_RC_D, "utf8").includes(POLICY_MARK)) rmSync(POLICY_RC_D);
  }
  const still = NEEDED.filter((path) => !existsSync(path));
  if (still.length > 0) throw new Error(`still missing after install: ${still.join(", ")}`);
}

function aptInstall(showErrors = false): boolean {
  const result = spawnSync(
    "apt-get",
    ["-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=120", "install", ...PACKAGES],
    {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
    },
  );
  if (result.status !== 0 && showErrors)
    process.stderr.write(`${result.stdout}${result.stderr}`.slice(-2000));
  return result.status === 0;
}

/** Brings the demo mail host up when it is not, and returns its CA file. */
export function ensureDemoHost(log: (line: string) => void): string {
  const script = "scripts/demo-mailhost.sh";
  const status = spawnSync("bash", [script, "status"], { stdio: "ignore" });
  if (status.status !== 0) {
    log("demo mail host is not up: bash scripts/demo-mailhost.sh up");
    const up = spawnSync("bash", [script, "up"], { stdio: ["ignore", "ignore", "inherit"] });
    if (up.status !== 0) throw new Error("bash scripts/demo-mailhost.sh up failed");
  }
  const env = execFileSync("bash", [script, "env"], { encoding: "utf8" });
  const match = /^export SCOUT_DEMO_CA=(.*)$/m.exec(env);
  const ca = match?.[1]?.replace(/^'(.*)'$/, "$1") ?? "/var/lib/email-scout-demo/ca.pem";
  if (!existsSync(ca)) throw new Error(`demo CA file ${ca} is missing`);
  return ca;
}
