import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** One peer server as scripts/peer-servers.sh describes it in its facts file. */
export interface PeerServer {
  readonly product: string;
  /** Endpoint URLs that must check OK (with login when `login` is true). */
  readonly healthy: readonly string[];
  readonly login: boolean;
  readonly noStartTls: string;
  readonly noStls?: string;
  readonly wrongCert: string;
  readonly wrongCertPop3?: string;
  /** A plain-text port where login needs TLS first, checked with starttls=off. */
  readonly tlsRequired?: string;
  readonly tlsRequiredPop3?: string;
  readonly maintenanceFile?: string;
  readonly shutdownFile?: string;
  readonly pop3sPort?: number;
}

export interface PeerFacts {
  readonly host: string;
  readonly caFile: string;
  readonly user: string;
  readonly passwordFile: string;
  readonly servers: {
    readonly exim: PeerServer;
    readonly sendmail: PeerServer;
    readonly cyrus: PeerServer;
    readonly mailutils: PeerServer;
    readonly courier: PeerServer;
  };
}

const ROOT = join(import.meta.dirname, "../..");
const SCRIPT = join(ROOT, "scripts/peer-servers.sh");
const START = "sudo bash scripts/peer-servers.sh up (after scripts/demo-mailhost.sh up)";

/**
 * The peer servers' facts, from $SCOUT_PEERS or, when it is unset, from the running servers
 * (`peer-servers.sh status` then `env`). Undefined when they are not running outside CI: the
 * tier is then skipped. In CI (CI set) a missing tier is an error, never a skip.
 */
export function peerServers(): PeerFacts | undefined {
  let file = process.env.SCOUT_PEERS;
  if (!file) {
    try {
      execFileSync("bash", [SCRIPT, "status"], { stdio: "ignore", timeout: 30_000 });
      const env = execFileSync("bash", [SCRIPT, "env"], { encoding: "utf8", timeout: 30_000 });
      file = /^export SCOUT_PEERS=(.+)$/m.exec(env)?.[1]?.replace(/^["']|["']$/g, "");
    } catch {
      file = undefined;
    }
  }
  if (!file) {
    if (process.env.CI) throw new Error(`CI: the peer servers are not running; start them with: ${START}`);
    return undefined;
  }
  return JSON.parse(readFileSync(file, "utf8")) as PeerFacts;
}

export const PEERS_SKIP_MESSAGE = `peer-matrix tier skipped: the peer servers are not running (SCOUT_PEERS unset); start them with: ${START}`;
