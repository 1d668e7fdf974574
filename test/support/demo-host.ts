import { execFileSync } from "node:child_process";
import { join } from "node:path";

export interface DemoHost {
  readonly dir: string;
  readonly caFile: string;
  readonly certDaysLeft: number;
  readonly user: string;
  readonly passwordFile: string;
  readonly host: string;
  readonly ipv6: boolean;
}

const ROOT = join(import.meta.dirname, "../..");

/**
 * Facts about the demo mail host (scripts/demo-mailhost.sh), read from its `env` command.
 * The integration tier needs it running; if it is not, fail with the command that starts it.
 */
export function demoHost(): DemoHost {
  const script = join(ROOT, "scripts/demo-mailhost.sh");
  try {
    execFileSync("bash", [script, "status"], { stdio: "ignore", timeout: 30_000 });
  } catch {
    throw new Error(
      `the demo mail host is not running; start it with: sudo bash scripts/demo-mailhost.sh up`,
    );
  }
  const text = execFileSync("bash", [script, "env"], { encoding: "utf8", timeout: 30_000 });
  const env: Record<string, string> = {};
  for (const match of text.matchAll(/^export (\w+)=(.*)$/gm)) {
    env[match[1] as string] = (match[2] as string).replace(/^["']|["']$/g, "");
  }
  const need = (name: string): string => {
    const value = env[name];
    if (value === undefined) throw new Error(`scripts/demo-mailhost.sh env did not print ${name}`);
    return value;
  };
  return {
    dir: need("SCOUT_DEMO_DIR"),
    caFile: need("SCOUT_DEMO_CA"),
    certDaysLeft: Number(need("SCOUT_DEMO_CERT_DAYS_LEFT")),
    user: need("SCOUT_DEMO_USER"),
    passwordFile: need("SCOUT_DEMO_PASSWORD_FILE"),
    host: need("SCOUT_DEMO_HOST"),
    ipv6: need("SCOUT_DEMO_IPV6") === "1",
  };
}
