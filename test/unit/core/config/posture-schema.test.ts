import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../../core/config/config-error.ts";
import { parseAwsConfigText, parseConfigText } from "../../../../core/config/parse-config.ts";

const MINIMAL = {
  dataDir: "/var/lib/scout",
  probeKeyFile: "/etc/scout/probe.key",
  inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
  targets: [{ id: "mx1", domain: "example.com", endpoints: [{ url: "smtp://mx1.example.com" }] }],
};

// biome-ignore lint/suspicious/noExplicitAny: fixtures poke at arbitrary keys on purpose
type Loose = any;
function variant(edit: (config: Loose) => void): string {
  const copy = structuredClone(MINIMAL) as Loose;
  edit(copy);
  return JSON.stringify(copy);
}

function problemsOf(text: string): string[] {
  try {
    parseConfigText(text, "test.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("the posture configuration", () => {
  it("defaults: hourly, the system resolver, 3 s per try and 2 retries, a minute for the run", () => {
    const config = parseConfigText(JSON.stringify(MINIMAL), "minimal.yaml");
    expect(config.posture).toEqual({
      intervalSeconds: 3600,
      timeoutMs: 3000,
      retries: 2,
      httpsTimeoutSeconds: 10,
      budgetSeconds: 60,
      confirmAfter: 1,
    });
    expect(config.targets[0]?.domain).toBe("example.com");
  });

  it("takes every key", () => {
    const text = variant((c) => {
      c.posture = { intervalSeconds: 600, resolver: "[2001:db8::53]:5353", timeoutMs: 500, retries: 0 };
      c.targets[0].posture = {
        senderIp: "192.0.2.25",
        fromDomain: "scout.example.net",
        mtaStsRequired: true,
        tlsRptRequired: true,
        ignore: ["dmarc-monitoring-only"],
      };
    });
    const config = parseConfigText(text, "posture.yaml");
    expect(config.posture.resolver).toBe("[2001:db8::53]:5353");
    expect(config.targets[0]?.posture).toEqual({
      senderIp: "192.0.2.25",
      fromDomain: "scout.example.net",
      mtaStsRequired: true,
      tlsRptRequired: true,
      ignore: ["dmarc-monitoring-only"],
    });
  });

  it("a target with a domain alone is something to watch", () => {
    expect(problemsOf(variant((c) => (c.targets[0] = { id: "dns-only", domain: "example.org" })))).toEqual(
      [],
    );
  });

  it.each([
    [
      "interval under a minute",
      variant((c) => (c.posture = { intervalSeconds: 30 })),
      "posture.intervalSeconds: Too small: expected number to be >=60",
    ],
    [
      "resolver by name",
      variant((c) => (c.posture = { resolver: "dns.example" })),
      'posture.resolver: needs an IP address (and :PORT), got "dns.example"',
    ],
    [
      "resolver port out of range",
      variant((c) => (c.posture = { resolver: "192.0.2.53:0" })),
      'posture.resolver: port must be 1-65535, got "0"',
    ],
    ["unknown posture key", variant((c) => (c.posture = { interval: 60 })), "posture.interval: unknown key"],
    [
      "interval beyond the retention",
      variant((c) => {
        c.retentionDays = 1;
        c.posture = { intervalSeconds: 86_401 };
      }),
      "posture.intervalSeconds: must not exceed the results' retention (1 day): the last run would be pruned before the next is due",
    ],
    [
      "no time for the run",
      variant((c) => (c.posture = { budgetSeconds: 0 })),
      "posture.budgetSeconds: Too small: expected number to be >0",
    ],
    [
      "bad target domain",
      variant((c) => (c.targets[0].domain = "not a domain")),
      "targets[0].domain: must be a domain name like scout-returns.example.com",
    ],
    [
      "global sender IP that is none",
      variant((c) => (c.posture = { senderIp: "nat.example.com" })),
      "posture.senderIp: must be an IP address",
    ],
    [
      "sender IP that is none",
      variant((c) => (c.targets[0].posture = { senderIp: "mx.example.com" })),
      "targets[0].posture.senderIp: must be an IP address",
    ],
    [
      "ignoring a reason that does not exist",
      variant((c) => (c.targets[0].posture = { ignore: ["dmarc-monitoring-only", "dmarc-none"] })),
      "targets[0].posture.ignore[1]: must be a posture reason code (email-scout posture --reasons), like dmarc-monitoring-only",
    ],
    [
      "posture overrides without a domain",
      variant((c) => {
        delete c.targets[0].domain;
        c.targets[0].posture = { senderIp: "192.0.2.25" };
      }),
      "targets[0].posture: needs the target's domain (targets[].domain) to check the posture of",
    ],
  ])("%s", (_name, text, message) => {
    expect(problemsOf(text)).toEqual([message]);
  });
});

describe("the posture budget on AWS", () => {
  const aws = (budgetSeconds: number) =>
    variant((c) => {
      c.outbound = { from: "monitor@scout-returns.example.com" };
      c.posture = { budgetSeconds };
    });
  const awsProblemsOf = (text: string): string[] => {
    try {
      parseAwsConfigText(text, "aws.yaml");
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it("is bounded below the prober's 5-minute run", () => {
    expect(awsProblemsOf(aws(180))).toEqual([]);
    expect(awsProblemsOf(aws(181))).toEqual([
      "posture.budgetSeconds: must be at most 180 on AWS: the prober runs the posture inside its 5-minute run, beside the checks",
    ]);
    expect(problemsOf(aws(181))).toEqual([]);
  });
});
