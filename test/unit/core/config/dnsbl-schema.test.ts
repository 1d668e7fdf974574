import { describe, expect, it } from "vitest";
import { z } from "zod";
import { dnsblSettingsSchema } from "../../../../core/config/dnsbl-schema.ts";
import { describeIssues } from "../../../../core/config/parse-config.ts";
import type { DnsblList } from "../../../../core/posture/dnsbl-lists.ts";

/** The two keys as they will sit in the posture block: one invalid fixture per rule. */
const schema = z.strictObject(dnsblSettingsSchema);
const problems = (value: unknown): string[] => {
  const parsed = schema.safeParse(value);
  return parsed.success ? [] : describeIssues(parsed.error.issues);
};

describe("dnsbls and outboundIps", () => {
  it("accepts lists with severities, codes and refusal codes, and outbound addresses of both families", () => {
    const value = {
      dnsbls: [
        { zone: "zen.spamhaus.org", severity: "CRITICAL" },
        { zone: "abc123key.zen.dq.spamhaus.net", severity: "CRITICAL" },
        {
          zone: "bl.example.net",
          severity: "WARNING",
          codes: { "127.0.0.2": "listed", "127.0.0.10": "policy" },
          refused: { "127.0.0.1": "over quota" },
        },
      ],
      outboundIps: ["198.51.100.7", "2001:db8::7"],
    };
    const parsed = schema.parse(value);
    // What the configuration holds is what the blocklist check takes.
    const lists: readonly DnsblList[] | undefined = parsed.dnsbls;
    expect(lists).toEqual(value.dnsbls);
    expect(parsed).toEqual(value);
    expect(problems({ dnsbls: [] })).toEqual([]);
  });

  it.each([
    [{ dnsbls: [{ zone: "zen.spamhaus.org" }] }, "dnsbls[0].severity: must be WARNING or CRITICAL"],
    [
      { dnsbls: [{ zone: "zen.spamhaus.org", severity: "UNKNOWN" }] },
      "dnsbls[0].severity: must be WARNING or CRITICAL",
    ],
    [
      { dnsbls: [{ zone: "not a zone", severity: "WARNING" }] },
      "dnsbls[0].zone: must be a DNSBL zone like zen.spamhaus.org (a DQS key is part of the zone name)",
    ],
    [
      { dnsbls: [{ zone: "bl.example.net", severity: "WARNING", codes: { "10.0.0.2": "x" } }] },
      "dnsbls[0].codes.10.0.0.2: must be a DNSBL answer code in 127.0.0.0/8, like 127.0.0.2",
    ],
    [{ dnsbls: [{ zone: "bl.example.net", severity: "WARNING", list: "x" }] }, "dnsbls[0].list: unknown key"],
    [
      { outboundIps: ["nat.example.com"] },
      "outboundIps[0]: must be an IPv4 or IPv6 address like 192.0.2.25 or 2001:db8::25",
    ],
  ])("%j: %s", (value, message) => {
    expect(problems(value)).toContain(message);
  });
});
