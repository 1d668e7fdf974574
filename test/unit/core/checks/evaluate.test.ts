import { describe, expect, it } from "vitest";
import { CheckFailure } from "../../../../core/checks/errors.ts";
import { DEFAULT_THRESHOLDS, evaluate } from "../../../../core/checks/evaluate.ts";
import { REASON_ORDER, REASONS, type Reason } from "../../../../core/checks/reasons.ts";
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
    ).toEqual(["cert-hostname-mismatch", "cert-untrusted"]);
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

  // Exim's greeting: three lines, the last one "220 " (RFC 5321 §4.2.1).
  const EXIM_BANNER = [
    "220-mx.example.com ESMTP Exim 4.97 Tue, 01 Dec 2026 10:00:00 +0000",
    "220-We do not authorize the use of this system to transport unsolicited,",
    "220 and/or bulk e-mail.",
  ].join("\n");
  it.each<[string, boolean]>([
    ["^220 ", true],
    ["^220-mx\\.example\\.com ESMTP Exim", true],
    ["Exim 4\\.9\\d", true],
    ["e-mail\\.$", true],
    ["unsolicited,$", true],
    ["ESMTP Exim[^\\n]*\\n220-We", true],
    ["^220 mx\\.example\\.com", false],
    ["Postfix", false],
  ])("a multi-line greeting is searched line by line (m flag): /%s/ matches: %s", (pattern, matches) => {
    const thresholds = { ...DEFAULT_THRESHOLDS, expectBanner: pattern };
    const verdict = evaluate({ responseMs: 5, banner: EXIM_BANNER }, undefined, thresholds, NOW);
    expect(verdict.reason).toBe(matches ? "ok" : "banner-mismatch");
    if (!matches)
      expect(verdict.problems[0]?.message).toMatch(/^no line of the greeting ".*" matches \/.*\/m$/s);
  });

  it("a failure is the primary reason; a worse certificate still sets the status", () => {
    const failure = new CheckFailure("auth-failed", "login", "login rejected");
    const verdict = evaluate({ responseMs: 5, tls: tls({}, 10) }, failure, DEFAULT_THRESHOLDS, NOW);
    expect(verdict).toMatchObject({ status: "CRITICAL", reason: "auth-failed" });
    expect(verdict.problems.map((p) => p.reason)).toEqual(["auth-failed", "cert-expiring"]);
  });

  it("the reason order names every reason once", () => {
    expect([...REASON_ORDER].sort()).toEqual(Object.keys(REASONS).sort());
  });

  const untrusted = { chainTrusted: false, verifyError: "DEPTH_ZERO_SELF_SIGNED_CERT" };
  const mismatch = {
    hostnameMatch: false,
    hostnameError: "Host: mail.example.com. is not in the cert's altnames",
  };
  const slowThresholds = { ...DEFAULT_THRESHOLDS, warningMs: 1000, criticalMs: 2000 };
  const bannerThresholds = { ...DEFAULT_THRESHOLDS, expectBanner: "Postfix" };
  const timeoutReply = new CheckFailure("timeout-reply", "capabilities", "no reply to EHLO");
  const authFailed = new CheckFailure("auth-failed", "login", "login rejected");
  const internal = new CheckFailure("internal-error", "resolve", "unexpected error");
  // [case, tls facts (overrides, days left), failure, response ms, thresholds, status, reasons in order]
  it.each<
    [
      string,
      [Partial<TlsFacts>, number] | undefined,
      CheckFailure | undefined,
      number,
      typeof DEFAULT_THRESHOLDS,
      string,
      Reason[],
    ]
  >([
    // The case after the CA file was re-read: only the expiry is left.
    [
      "replaced self-signed, CA re-read",
      [{}, 10],
      undefined,
      5,
      DEFAULT_THRESHOLDS,
      "WARNING",
      ["cert-expiring"],
    ],
    [
      "untrusted and expiring (warning)",
      [untrusted, 10],
      undefined,
      5,
      DEFAULT_THRESHOLDS,
      "CRITICAL",
      ["cert-untrusted", "cert-expiring"],
    ],
    [
      "untrusted and expiring (critical)",
      [untrusted, 3],
      undefined,
      5,
      DEFAULT_THRESHOLDS,
      "CRITICAL",
      ["cert-untrusted", "cert-expiring"],
    ],
    [
      "untrusted and another name",
      [{ ...untrusted, ...mismatch }, 60],
      undefined,
      5,
      DEFAULT_THRESHOLDS,
      "CRITICAL",
      ["cert-hostname-mismatch", "cert-untrusted"],
    ],
    [
      "expired, untrusted, another name",
      [{ ...untrusted, ...mismatch }, -2],
      undefined,
      5,
      DEFAULT_THRESHOLDS,
      "CRITICAL",
      ["cert-expired", "cert-hostname-mismatch", "cert-untrusted"],
    ],
    [
      "another name and expiring",
      [mismatch, 3],
      undefined,
      5,
      DEFAULT_THRESHOLDS,
      "CRITICAL",
      ["cert-hostname-mismatch", "cert-expiring"],
    ],
    [
      "dialogue failure and untrusted",
      [untrusted, 60],
      timeoutReply,
      5,
      DEFAULT_THRESHOLDS,
      "CRITICAL",
      ["timeout-reply", "cert-untrusted"],
    ],
    [
      "login refused and expired",
      [{}, -1],
      authFailed,
      5,
      DEFAULT_THRESHOLDS,
      "CRITICAL",
      ["auth-failed", "cert-expired"],
    ],
    [
      "internal error and expiring",
      [{}, 10],
      internal,
      5,
      DEFAULT_THRESHOLDS,
      "UNKNOWN",
      ["internal-error", "cert-expiring"],
    ],
    [
      "expiring (warning) and slow (critical)",
      [{}, 10],
      undefined,
      2500,
      slowThresholds,
      "CRITICAL",
      ["slow", "cert-expiring"],
    ],
    [
      "expiring and slow, both warnings",
      [{}, 10],
      undefined,
      1500,
      slowThresholds,
      "WARNING",
      ["cert-expiring", "slow"],
    ],
    [
      "untrusted, expiring and slow",
      [untrusted, 3],
      undefined,
      2500,
      slowThresholds,
      "CRITICAL",
      ["cert-untrusted", "cert-expiring", "slow"],
    ],
    [
      "banner and slow, both warnings",
      undefined,
      undefined,
      1500,
      { ...slowThresholds, ...bannerThresholds },
      "WARNING",
      ["banner-mismatch", "slow"],
    ],
  ])("%s: %s", (_case, facts, failure, responseMs, thresholds, status, reasons) => {
    const observed = { responseMs, banner: "220 mx ESMTP Exim", ...(facts ? { tls: tls(...facts) } : {}) };
    const verdict = evaluate(observed, failure, thresholds, NOW);
    expect(verdict.problems.map((problem) => problem.reason)).toEqual(reasons);
    expect(verdict).toMatchObject({ status, reason: reasons[0], message: verdict.problems[0]?.message });
  });
});
