import { describe, expect, it } from "vitest";
import { CheckFailure } from "../../../../core/checks/errors.ts";
import { DEFAULT_THRESHOLDS, evaluate } from "../../../../core/checks/evaluate.ts";
import type { TlsFacts } from "../../../../core/checks/tls-facts.ts";

const NOW = Date.parse("2026-06-01T00:00:00Z");
const DAY = 86_400_000;

function tls(overrides: Partial<TlsFacts> = {}, daysLeft = 60): TlsFacts {
  return {
    protocol: "TLSv1.3",
    cipher: "TLS_AES_256_GCM_SHA384",
    checkedName: "mail.example.com",
    hostnameMatch: true,
    chainTrusted: true,
    certificate: {
      subject: "CN=mail.example.com",
      subjectAltNames: ["DNS:mail.example.com"],
      issuer: "CN=CA",
      serialNumber: "01",
      fingerprintSha256: "AA",
      notBefore: new Date(NOW - 30 * DAY).toISOString(),
      notAfter: new Date(NOW + daysLeft * DAY + 1000).toISOString(),
      daysLeft,
    },
    ...overrides,
  };
}

describe("evaluate", () => {
  it("is OK when nothing is wrong", () => {
    expect(evaluate({ responseMs: 50, tls: tls() }, undefined, DEFAULT_THRESHOLDS, NOW)).toMatchObject({
      status: "OK",
      reason: "ok",
    });
  });

  it.each([
    [22, "OK", "ok"],
    [21, "WARNING", "cert-expiring"],
    [8, "WARNING", "cert-expiring"],
    [7, "CRITICAL", "cert-expiring"],
    [0, "CRITICAL", "cert-expiring"],
  ])("certificate with %i days left is %s %s", (days, status, reason) => {
    expect(
      evaluate({ responseMs: 50, tls: tls({}, days) }, undefined, DEFAULT_THRESHOLDS, NOW),
    ).toMatchObject({ status, reason });
  });

  it("an expired certificate is CRITICAL cert-expired, not cert-expiring", () => {
    const verdict = evaluate({ responseMs: 50, tls: tls({}, -3) }, undefined, DEFAULT_THRESHOLDS, NOW);
    expect(verdict).toMatchObject({ status: "CRITICAL", reason: "cert-expired" });
    expect(verdict.problems.map((p) => p.reason)).toEqual(["cert-expired"]);
  });

  it("untrusted chains and name mismatches count only while TLS is verified", () => {
    const facts = tls({
      chainTrusted: false,
      verifyError: "DEPTH_ZERO_SELF_SIGNED_CERT",
      hostnameMatch: false,
    });
    expect(
      evaluate({ responseMs: 5, tls: facts }, undefined, DEFAULT_THRESHOLDS, NOW).problems.map(
        (p) => p.reason,
      ),
    ).toEqual(["cert-untrusted", "cert-hostname-mismatch"]);
    expect(
      evaluate({ responseMs: 5, tls: facts }, undefined, { ...DEFAULT_THRESHOLDS, verifyTls: false }, NOW)
        .status,
    ).toBe("OK");
  });

  it.each([
    [999, "OK", "ok"],
    [1000, "WARNING", "slow"],
    [2500, "CRITICAL", "slow"],
  ])("response of %i ms with 1 s / 2 s thresholds is %s", (ms, status, reason) => {
    const thresholds = { ...DEFAULT_THRESHOLDS, warningMs: 1000, criticalMs: 2000 };
    expect(evaluate({ responseMs: ms }, undefined, thresholds, NOW)).toMatchObject({ status, reason });
  });

  it("a banner that does not match is a WARNING", () => {
    const thresholds = { ...DEFAULT_THRESHOLDS, expectBanner: "Postfix" };
    expect(
      evaluate({ responseMs: 5, banner: "220 mx ESMTP Exim" }, undefined, thresholds, NOW),
    ).toMatchObject({
      status: "WARNING",
      reason: "banner-mismatch",
    });
    expect(
      evaluate({ responseMs: 5, banner: "220 mx ESMTP Postfix" }, undefined, thresholds, NOW).status,
    ).toBe("OK");
  });

  it("a failure is the primary reason; a worse certificate still sets the status", () => {
    const failure = new CheckFailure("auth-failed", "login", "login rejected");
    const verdict = evaluate({ responseMs: 5, tls: tls({}, 10) }, failure, DEFAULT_THRESHOLDS, NOW);
    expect(verdict).toMatchObject({ status: "CRITICAL", reason: "auth-failed" });
    expect(verdict.problems.map((p) => p.reason)).toEqual(["auth-failed", "cert-expiring"]);
  });
});
