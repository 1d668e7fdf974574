import { describe, expect, it } from "vitest";
import { parseAuthenticationResults } from "../../../../core/verdicts/authentication-results.ts";

describe("the reason of a method result", () => {
  it("keeps a policy comment beside the reasonspec, as rspamd writes DMARC's", () => {
    const field = parseAuthenticationResults(
      'mail.scout.test; dmarc=fail reason="SPF not aligned (relaxed), No valid DKIM" header.from=scout-unsigned.test (policy=reject)',
    );
    expect(field.results[0]).toMatchObject({
      method: "dmarc",
      result: "fail",
      reason: "SPF not aligned (relaxed), No valid DKIM (policy=reject)",
    });
  });

  it("leaves other comments out when there is a reasonspec (OpenDKIM's key size)", () => {
    const field = parseAuthenticationResults(
      'mail.example.com; dkim=fail reason="signature verification failed" (2048-bit key; unprotected) header.d=example.net',
    );
    expect(field.results[0]?.reason).toBe("signature verification failed");
  });

  it("takes the first comment when there is no reasonspec", () => {
    const field = parseAuthenticationResults(
      "mx.google.com; dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.net",
    );
    expect(field.results[0]?.reason).toBe("p=NONE sp=NONE dis=NONE");
  });
});
