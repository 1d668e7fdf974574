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
  /** Fetch mode's mailbox logs in with XOAUTH2/OAUTHBEARER too: the client-credentials client. */
  readonly fetchOAuth: {
    readonly tokenUrl: string;
    readonly clientId: string;
    readonly clientSecretFile: string;
  };
  /** Another client for the same mailbox, whose tokens expire 2 s after they are issued. */
  readonly fetchOAuthShortLived: {
    readonly tokenUrl: string;
    readonly clientId: string;
    readonly clientSecretFile: string;
  };
  /** The demo OAuth server's RFC 7009 revocation endpoint. */
  readonly oauthRevokeUrl: string;
  /** The authserv-id OpenDKIM and rspamd (Postfix's milters) write into Authentication-Results. */
  readonly authservId: string;
  /** A From domain whose probes fail DMARC there: p=reject, "v=spf1 -all", no DKIM key. */
  readonly dmarcFailDomain: string;
  /** A DKIM key published in the demo host's DNS for each of `domains` under `selector`. */
  readonly dkim: {
    readonly selector: string;
    readonly privateKeyFile: string;
    readonly domains: readonly string[];
  };
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
    fetchOAuth: {
      tokenUrl: need("SCOUT_DEMO_FETCH_OAUTH_TOKEN_URL"),
      clientId: need("SCOUT_DEMO_FETCH_OAUTH_CLIENT_ID"),
      clientSecretFile: need("SCOUT_DEMO_FETCH_OAUTH_SECRET_FILE"),
    },
    fetchOAuthShortLived: {
      tokenUrl: need("SCOUT_DEMO_FETCH_OAUTH_TOKEN_URL"),
      clientId: need("SCOUT_DEMO_FETCH_OAUTH_SHORTLIVED_CLIENT_ID"),
      clientSecretFile: need("SCOUT_DEMO_FETCH_OAUTH_SHORTLIVED_SECRET_FILE"),
    },
    oauthRevokeUrl: need("SCOUT_DEMO_OAUTH_REVOKE_URL"),
    authservId: need("SCOUT_DEMO_AUTHSERV_ID"),
    dmarcFailDomain: need("SCOUT_DEMO_DMARC_FAIL_DOMAIN"),
    dkim: {
      selector: need("SCOUT_DEMO_DKIM_SELECTOR"),
      privateKeyFile: need("SCOUT_DEMO_DKIM_KEY"),
      domains: need("SCOUT_DEMO_DKIM_DOMAINS").split(","),
    },
  };
}

/** `email-scout probe`'s flags for sending through the demo host's Postfix (STARTTLS, the demo CA). */
export function demoRelayArgs(demo: DemoHost): string[] {
  return ["--relay", `${demo.host}:25`, "--relay-tls", "require-starttls", "--ca-file", demo.caFile];
}
