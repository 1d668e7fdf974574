import { describe, expect, it } from "vitest";
import type { CheckResult } from "../../../../core/checks/result.ts";
import { bannerHostsOf } from "../../../../core/posture/banner-hosts.ts";

const smtp = (host: string, port: number, banner?: string, kind: CheckResult["kind"] = "smtp") =>
  ({ kind, host, port, ...(banner === undefined ? {} : { banner }) }) as unknown as CheckResult;

describe("the host names port-25 greetings announce", () => {
  it("takes the first word after 220 of each port-25 SMTP check, keyed by the endpoint's host", () => {
    expect(
      bannerHostsOf([
        smtp("MX1.example.com", 25, "220 mail.example.com ESMTP Postfix"),
        smtp("mx2.example.com", 25, "220-mx2.example.net. ESMTP Exim 4.96\n220 policy line"),
      ]),
    ).toEqual({ "mx1.example.com": "mail.example.com", "mx2.example.com": "mx2.example.net" });
  });

  it.each([
    ["submission port", smtp("mx.example.com", 587, "220 mail.example.com ESMTP")],
    ["not an SMTP check", smtp("mx.example.com", 25, "220 mail.example.com", "imap")],
    ["no greeting seen", smtp("mx.example.com", 25)],
    ["an address literal", smtp("mx.example.com", 25, "220 [192.0.2.1] ESMTP")],
    ["an IP address", smtp("mx.example.com", 25, "220 192.0.2.1 ESMTP")],
    ["a bare word", smtp("mx.example.com", 25, "220 ESMTP ready")],
    ["not a 220 greeting", smtp("mx.example.com", 25, "554 mail.example.com no service")],
  ])("leaves out %s", (_case, result) => {
    expect(bannerHostsOf([result])).toEqual({});
  });
});
