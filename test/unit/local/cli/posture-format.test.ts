import { describe, expect, it } from "vitest";
import type { PostureResult } from "../../../../core/posture/posture-result.ts";
import { formatPosture } from "../../../../local/cli/posture-format.ts";

const result = (check: PostureResult["check"], facts: object, message: string): PostureResult => ({
  check,
  domain: "example.test",
  status: "OK",
  reason: "ok",
  message,
  findings: [],
  facts,
  resolver: "127.0.0.1:53",
  startedAt: "2026-12-02T00:00:00.000Z",
  totalMs: 1,
});

describe("posture perfdata", () => {
  it("names the MTA-STS certificate's days left and the policy's max_age in days", () => {
    const text = formatPosture("example.test", [
      result(
        "mta-sts",
        {
          published: true,
          certificateDaysLeft: 41,
          policy: { version: "STSv1", mode: "enforce", maxAge: 604_800, mx: ["mx.example.test"] },
        },
        "MTA-STS mode enforce, max_age 604800, id 1",
      ),
      result("dnsbl", { lookups: 6, listings: 0 }, "1 address not listed on 6 lists"),
    ]);
    expect(text.split("\n")[0]).toBe(
      "POSTURE OK - example.test: MTA-STS mode enforce, max_age 604800, id 1; 1 address not listed on 6 lists | mta_sts_cert_days=41 mta_sts_max_age_days=7 dnsbl_listings=0;;;0",
    );
  });

  it("leaves MTA-STS perfdata out when no policy was fetched", () => {
    const text = formatPosture("example.test", [
      result("mta-sts", { published: false }, "MTA-STS not published"),
    ]);
    expect(text.split("\n")[0]).toBe("POSTURE OK - example.test: MTA-STS not published");
  });
});
