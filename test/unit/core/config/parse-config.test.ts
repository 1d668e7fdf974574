import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ConfigError } from "../../../../core/config/config-error.ts";
import { parseConfigText } from "../../../../core/config/parse-config.ts";

const ROOT = join(import.meta.dirname, "../../../..");

const MINIMAL = {
  dataDir: "/var/lib/scout",
  probeKeyFile: "/etc/scout/probe.key",
  inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
  targets: [
    { id: "mx1", endpoints: [{ url: "smtp://mx1.example.com" }], probe: { to: "probe@mx1.example.com" } },
  ],
};

function problemsOf(data: unknown): string[] {
  try {
    parseConfigText(typeof data === "string" ? data : JSON.stringify(data), "test.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

/** MINIMAL with one change made by `edit`. */
// biome-ignore lint/suspicious/noExplicitAny: fixtures poke at arbitrary keys on purpose
type Loose = any;
function variant(edit: (config: Loose) => void): unknown {
  const copy = structuredClone(MINIMAL) as Loose;
  edit(copy);
  return copy;
}

describe("parseConfigText", () => {
  it("fills defaults into a minimal config", () => {
    const config = parseConfigText(stringify(MINIMAL), "minimal.yaml");
    expect(config.schedule).toEqual({ intervalSeconds: 60, checkConcurrency: 16 });
    expect(config.inbound.listen).toEqual({ host: "127.0.0.1", port: 2525 });
    expect(config.inbound).toMatchObject({
      sessionTimeoutSeconds: 120,
      maxConnectionsPerClient: 5,
      maxRejectedPerMinute: 10,
      rejectedRetentionDays: 7,
      rejectedMaxBytes: 100 * 1024 * 1024,
    });
    expect(config.roundTrip).toEqual({
      deadlineSeconds: 300,
      warningSeconds: 30,
      criticalSeconds: 120,
      maxAgeSeconds: 86_400,
    });
  });

  it("accepts a DKIM key of the From domain's parent, and a target's receiver settings", () => {
    const config = parseConfigText(
      stringify(
        variant((c) => {
          c.outbound = { dkim: { domain: "example.com", selector: "scout2026", privateKeyFile: "/k.pem" } };
          c.targets[0].probe.receiverAuthservIds = ["mx.google.com", "(none)"];
          c.targets[0].probe.junkStatus = "CRITICAL";
        }),
      ),
      "dkim.yaml",
    );
    expect(config.outbound.dkim).toEqual({
      domain: "example.com",
      selector: "scout2026",
      privateKeyFile: "/k.pem",
    });
    expect(config.targets[0]?.probe).toMatchObject({
      receiverAuthservIds: ["mx.google.com", "(none)"],
      junkStatus: "CRITICAL",
    });
  });

  it("accepts the demo config shipped in config/demo.yaml", () => {
    const config = parseConfigText(readFileSync(join(ROOT, "config/demo.yaml"), "utf8"), "config/demo.yaml");
    expect(config.targets[0]?.endpoints).toHaveLength(7);
  });

  // One invalid fixture per rule, with its exact message.
  it.each([
    ["unknown top-level key", variant((c) => (c.interval = 5)), "interval: unknown key"],
    [
      "misspelt nested key",
      variant((c) => (c.inbound.retrunAddress = "x@y.z")),
      "inbound.retrunAddress: unknown key",
    ],
    ["missing dataDir", variant((c) => delete c.dataDir), "dataDir: is required"],
    ["no targets", variant((c) => (c.targets = [])), "targets: name at least one target"],
    [
      "bad target id",
      variant((c) => (c.targets[0].id = "mx 1")),
      "targets[0].id: must be 1-64 characters of letters, digits, . _ - (it names the target in metrics)",
    ],
    [
      "duplicate target ids",
      variant((c) => c.targets.push(c.targets[0])),
      'targets[1].id: duplicate target id "mx1"',
    ],
    [
      "target with nothing to watch",
      variant((c) => (c.targets[0] = { id: "idle" })),
      "targets[0]: has neither endpoints nor a probe nor a domain: nothing to watch",
    ],
    [
      "bad endpoint URL",
      variant((c) => (c.targets[0].endpoints[0].url = "ftp://x")),
      'targets[0].endpoints[0].url: endpoint "ftp://x": unknown scheme "ftp:"; use one of smtp, submission, smtps, imap, imaps, pop3, pop3s',
    ],
    [
      "unknown endpoint key",
      variant((c) => (c.targets[0].endpoints[0].password = "x")),
      "targets[0].endpoints[0].password: unknown key",
    ],
    [
      "bad probe address",
      variant((c) => (c.targets[0].probe.to = "probe")),
      "targets[0].probe.to: must be a plain mail address like probe@example.com",
    ],
    [
      "bad receiver authserv-id",
      variant((c) => (c.targets[0].probe.receiverAuthservIds = ["mx.example.com; dmarc=pass"])),
      'targets[0].probe.receiverAuthservIds[0]: must be a host or domain name like mx.google.com, or "(none)"',
    ],
    [
      "junk status UNKNOWN",
      variant((c) => (c.targets[0].probe.junkStatus = "UNKNOWN")),
      'targets[0].probe.junkStatus: Invalid option: expected one of "OK"|"WARNING"|"CRITICAL"',
    ],
    [
      "DKIM domain the From address is not in",
      variant(
        (c) => (c.outbound = { dkim: { domain: "other.example", selector: "s1", privateKeyFile: "/k.pem" } }),
      ),
      "outbound.dkim.domain: must be the probes' From domain scout-returns.example.com or a parent of it, or DMARC can never pass on its signature",
    ],
    [
      "bad DKIM selector",
      variant(
        (c) => (c.outbound = { dkim: { domain: "example.com", selector: "s 1", privateKeyFile: "/k.pem" } }),
      ),
      "outbound.dkim.selector: must be a DKIM selector like scout2026 (letters, digits, . _ -)",
    ],
    [
      "return address off the inbound domain",
      variant((c) => (c.inbound.returnAddress = "r@elsewhere.example.com")),
      "inbound.returnAddress: must be at the inbound domain scout-returns.example.com, so returns reach the listener",
    ],
    [
      "bad inbound domain",
      variant((c) => (c.inbound.domain = "localhost")),
      "inbound.domain: must be a domain name like scout-returns.example.com",
    ],
    [
      "negative interval",
      variant((c) => (c.schedule = { intervalSeconds: -1 })),
      "schedule.intervalSeconds: Too small: expected number to be >0",
    ],
    [
      "interval as text",
      variant((c) => (c.schedule = { intervalSeconds: "60" })),
      "schedule.intervalSeconds: Invalid input: expected number, received string",
    ],
    [
      "warning above critical",
      variant((c) => (c.roundTrip = { warningSeconds: 90, criticalSeconds: 60 })),
      "roundTrip.warningSeconds: must not exceed criticalSeconds",
    ],
    [
      "critical above deadline",
      variant((c) => (c.roundTrip = { criticalSeconds: 600 })),
      "roundTrip.criticalSeconds: must not exceed deadlineSeconds",
    ],
    [
      "bad relay tls",
      variant((c) => (c.outbound = { relay: { host: "r", tls: "yes" } })),
      'outbound.relay.tls: Invalid option: expected one of "starttls"|"opportunistic"|"require-starttls"|"implicit"|"none"',
    ],
    [
      "a relay login over unverified TLS",
      variant(
        (c) => (c.outbound = { relay: { host: "r", tls: "opportunistic", user: "u", passwordFile: "pw" } }),
      ),
      "outbound.relay.tls: a relay login needs verified TLS (the password would go to whoever answers): use starttls, require-starttls or implicit, not opportunistic",
    ],
    [
      "dashboard tls without a key",
      variant((c) => (c.dashboard = { tls: { certFile: "cert.pem" } })),
      "dashboard.tls.keyFile: is required",
    ],
    [
      "unknown dashboard tls key",
      variant((c) => (c.dashboard = { tls: { certFile: "cert.pem", keyFile: "key.pem", caFile: "ca.pem" } })),
      "dashboard.tls.caFile: unknown key",
    ],
    [
      "a /probe module without its modules",
      variant((c) => (c.dashboard = { prometheusProbe: { modules: {} } })),
      "dashboard.prometheusProbe.modules: name at least one module",
    ],
    [
      "a /probe module name with a space",
      variant((c) => (c.dashboard = { prometheusProbe: { modules: { "mail tls": {} } } })),
      "dashboard.prometheusProbe.modules.mail tls: module names are 1-64 characters of letters, digits, . _ - (they appear in scrape URLs)",
    ],
    [
      "an unknown /probe module key",
      variant((c) => (c.dashboard = { prometheusProbe: { modules: { mail: { timeout: 5 } } } })),
      "dashboard.prometheusProbe.modules.mail.timeout: unknown key",
    ],
    [
      "a /probe module login without allowedHosts",
      variant(
        (c) =>
          (c.dashboard = {
            prometheusProbe: { modules: { mail: { login: { user: "u", passwordFile: "pw" } } } },
          }),
      ),
      "dashboard.prometheusProbe.modules.mail.allowedHosts: is required with login: list the hosts this module may log in to, so a scrape cannot send the password elsewhere",
    ],
    [
      "a /probe module STARTTLS policy misspelt",
      variant((c) => (c.dashboard = { prometheusProbe: { modules: { mail: { starttls: "yes" } } } })),
      'dashboard.prometheusProbe.modules.mail.starttls: Invalid option: expected one of "required"|"optional"|"off"',
    ],
    [
      "a /probe module timeout beyond two minutes",
      variant((c) => (c.dashboard = { prometheusProbe: { modules: { mail: { timeoutSeconds: 600 } } } })),
      "dashboard.prometheusProbe.modules.mail.timeoutSeconds: Too big: expected number to be <=120",
    ],
    [
      "/probe without a concurrency limit",
      variant((c) => (c.dashboard = { prometheusProbe: { maxConcurrentChecks: 0, modules: { mail: {} } } })),
      "dashboard.prometheusProbe.maxConcurrentChecks: Too small: expected number to be >=1",
    ],
    [
      "relay user without password file",
      variant((c) => (c.outbound = { relay: { host: "r", user: "u" } })),
      "outbound.relay.passwordFile: is required with user",
    ],
    [
      "obsolete login mechanism",
      variant(
        (c) => (c.targets[0].endpoints[0].login = { user: "u", passwordFile: "pw", mechanism: "DIGEST-MD5" }),
      ),
      "targets[0].endpoints[0].login.mechanism: DIGEST-MD5 is obsolete (RFC 6331) and not supported; use one of SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN",
    ],
    [
      "login mechanism of another protocol",
      variant(
        (c) => (c.targets[0].endpoints[0].login = { user: "u", passwordFile: "pw", mechanism: "POP3-USER" }),
      ),
      "targets[0].endpoints[0].login.mechanism: POP3-USER belongs to POP3, not SMTP; use one of SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN",
    ],
    [
      "open relay test on an IMAP endpoint",
      variant((c) => (c.targets[0].endpoints[0] = { url: "imaps://mx1.example.com", openRelayTest: true })),
      "targets[0].endpoints[0].openRelayTest: the open relay test is for smtp, submission and smtps endpoints, not imaps://",
    ],
    [
      "open relay test recipient not an address",
      variant((c) => (c.targets[0].endpoints[0].openRelayTest = { recipient: "example.com" })),
      "targets[0].endpoints[0].openRelayTest.recipient: must be a plain mail address like probe@example.com",
    ],
    [
      "open relay test with an unknown key",
      variant((c) => (c.targets[0].endpoints[0].openRelayTest = { from: "a@example.net" })),
      "targets[0].endpoints[0].openRelayTest.from: unknown key",
    ],
    [
      "bad banner pattern",
      variant((c) => (c.targets[0].thresholds = { expectBanner: "(" })),
      "targets[0].thresholds.expectBanner: is not a valid regular expression",
    ],
    [
      "sandbox flag as text",
      variant((c) => (c.aws = { sesSandbox: "yes" })),
      "aws.sesSandbox: Invalid input: expected boolean, received string",
    ],
    [
      "MAIL FROM subdomain with a dot",
      variant((c) => (c.aws = { mailFromSubdomain: "bounce.mail" })),
      "aws.mailFromSubdomain: must be one DNS label like bounce (letters, digits, inner hyphens)",
    ],
    [
      "per-target alarms beyond what a stack holds",
      variant((c) => (c.aws = { perTargetAlarmsUpTo: 41 })),
      "aws.perTargetAlarmsUpTo: must be a whole number from 0 to 40: each target watched on its own adds up to 9 alarms to a stack that CloudFormation limits to 500 resources",
    ],
    [
      "per-target alarms for part of a target",
      variant((c) => (c.aws = { perTargetAlarmsUpTo: 2.5 })),
      "aws.perTargetAlarmsUpTo: must be a whole number from 0 to 40: each target watched on its own adds up to 9 alarms to a stack that CloudFormation limits to 500 resources",
    ],
    [
      "Elastic IP named by its address, not its allocation id",
      variant((c) => (c.aws = { natEipAllocationId: "203.0.113.7" })),
      "aws.natEipAllocationId: must be an Elastic IP allocation id like eipalloc-0123456789abcdef0 (aws ec2 describe-addresses)",
    ],
    [
      "hosted zone id as Route 53's API writes it",
      variant(
        (c) => (c.aws = { hostedZoneId: "/hostedzone/Z0123456789ABCDEFGHIJ", hostedZoneName: "example.com" }),
      ),
      "aws.hostedZoneId: must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ (without /hostedzone/)",
    ],
    [
      "hosted zone named by a URL",
      variant(
        (c) => (c.aws = { hostedZoneId: "Z0123456789ABCDEFGHIJ", hostedZoneName: "https://example.com" }),
      ),
      "aws.hostedZoneName: must be a domain name like scout-returns.example.com",
    ],
    [
      "activation switch as text",
      variant((c) => (c.aws = { activateReceiptRuleSet: "yes" })),
      "aws.activateReceiptRuleSet: Invalid input: expected boolean, received string",
    ],
    [
      "no prober shards",
      variant((c) => (c.aws = { proberShards: 0 })),
      "aws.proberShards: Too small: expected number to be >=1",
    ],
    [
      "a fraction of a prober shard",
      variant((c) => (c.aws = { proberShards: 2.5 })),
      "aws.proberShards: Invalid input: expected int, received number",
    ],
    [
      "schedule switch as text",
      variant((c) => (c.aws = { scheduleEnabled: "no" })),
      "aws.scheduleEnabled: Invalid input: expected boolean, received string",
    ],
    [
      "port out of range",
      variant((c) => (c.inbound.listen = { port: 70000 })),
      "inbound.listen.port: Too big: expected number to be <=65535",
    ],
    [
      "listener session limit of no time",
      variant((c) => (c.inbound.sessionTimeoutSeconds = 0)),
      "inbound.sessionTimeoutSeconds: Too small: expected number to be >0",
    ],
    [
      "listener session limit over an hour",
      variant((c) => (c.inbound.sessionTimeoutSeconds = 7200)),
      "inbound.sessionTimeoutSeconds: Too big: expected number to be <=3600",
    ],
    [
      "no connection per client",
      variant((c) => (c.inbound.maxConnectionsPerClient = 0)),
      "inbound.maxConnectionsPerClient: Too small: expected number to be >=1",
    ],
    [
      "a fraction of a rejected message",
      variant((c) => (c.inbound.maxRejectedPerMinute = 1.5)),
      "inbound.maxRejectedPerMinute: Invalid input: expected int, received number",
    ],
    [
      "rejected mail kept no day",
      variant((c) => (c.inbound.rejectedRetentionDays = 0)),
      "inbound.rejectedRetentionDays: Too small: expected number to be >=1",
    ],
    [
      "rejected mail capped below one message",
      variant((c) => (c.inbound.rejectedMaxBytes = 1000)),
      "inbound.rejectedMaxBytes: Too small: expected number to be >=1048576",
    ],
    [
      "webhook to the cloud metadata address",
      variant((c) => (c.webhooks = { endpoints: [{ id: "ops", url: "http://2852039166/latest/" }] })),
      "webhooks.endpoints[0].url: points at 169.254.169.254, a cloud metadata address: webhooks are not sent to link-local, metadata or unspecified addresses; use the receiver's own address, or set allowLinkLocalAddresses: true on this endpoint if it really listens there",
    ],
  ])("rejects %s", (_name, data, message) => {
    expect(problemsOf(data)).toContain(message);
  });

  it.each([
    ["not YAML", "a: [1, 2", "not valid YAML/JSON"],
    [
      "a list at the top",
      "- 1\n- 2\n",
      "the top level must be a mapping of keys (dataDir, inbound, targets, ...)",
    ],
    ["a duplicate key", "dataDir: a\ndataDir: b\n", "not valid YAML/JSON: Map keys must be unique"],
  ])("rejects %s", (_name, text, message) => {
    expect(problemsOf(text)[0]).toContain(message);
  });

  it("lists every problem at once, in a message naming the file", () => {
    const data = variant((c) => {
      c.typo = 1;
      c.targets[0].id = "";
    });
    expect(() => parseConfigText(JSON.stringify(data), "scout.yaml")).toThrow(
      /^scout\.yaml: invalid configuration\n {2}- /,
    );
    expect(problemsOf(data)).toHaveLength(2);
  });
});
