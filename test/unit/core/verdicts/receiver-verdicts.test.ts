import { describe, expect, it } from "vitest";
import {
  fetchedVerdicts,
  judgedSpam,
  receiverVerdicts,
} from "../../../../core/verdicts/receiver-verdicts.ts";
import { verdictText } from "../../../../core/verdicts/verdict-text.ts";
import {
  GMAIL_PASS,
  MICROSOFT_JUNK,
  POSTFIX_OPENDMARC_FAIL,
  PROBE_AS_SENT,
  RSPAMD_ADD_HEADER,
  RSPAMD_WITH_SPAM_STATUS,
  SPAMASSASSIN_SPAM,
} from "./header-samples.ts";

describe("receiverVerdicts: real receivers", () => {
  it("Postfix with OpenDKIM and OpenDMARC: DMARC fail with its reason, SPF from Received-SPF", () => {
    const verdicts = receiverVerdicts(POSTFIX_OPENDMARC_FAIL, { trustedAuthservIds: ["example.com"] });
    expect(verdicts).toEqual({
      authservId: "mail.example.com",
      dmarc: { result: "fail", reason: "p=reject dis=none", domain: "example.net" },
      dkim: { result: "fail", reason: "signature verification failed", domain: "example.net" },
      spf: { result: "fail", domain: "example.net" },
      spam: [],
      ignoredAuthResults: 0,
      problems: [],
    });
  });

  it("Gmail: counts mx.google.com's field below its own Received, not the ARC copy", () => {
    const verdicts = receiverVerdicts(GMAIL_PASS, { trustedAuthservIds: ["mx.google.com"] });
    expect(verdicts.authservId).toBe("mx.google.com");
    expect(verdicts.spf).toEqual({
      result: "pass",
      reason: "google.com: domain of bounces@example.net designates 192.0.2.20 as permitted sender",
      domain: "example.net",
    });
    expect(verdicts.dkim).toEqual({ result: "pass", domain: "example.net" });
    expect(verdicts.dmarc).toMatchObject({ result: "pass", reason: "p=NONE sp=NONE dis=NONE" });
    expect(verdicts.ignoredAuthResults).toBe(0);
  });

  it("Microsoft 365: a field without authserv-id counts only when (none) is trusted; SCL 5 is spam", () => {
    const trusting = receiverVerdicts(MICROSOFT_JUNK, { trustedAuthservIds: ["(none)"] });
    expect(trusting.authservId).toBe("(none)");
    expect(trusting.dmarc).toEqual({ result: "fail", reason: "action=quarantine", domain: "example.net" });
    expect(trusting.spf).toMatchObject({ result: "softfail", domain: "example.net" });
    expect(trusting.dkim).toMatchObject({ result: "none", reason: "message not signed" });
    expect(trusting.spam).toEqual([{ filter: "microsoft", verdict: "spam", scl: 5, detail: "SFV:SPM" }]);
    expect(judgedSpam(trusting)).toBe(true);

    const default_ = receiverVerdicts(MICROSOFT_JUNK, { trustedAuthservIds: ["example.com"] });
    expect(default_.dmarc).toBeUndefined();
    expect(default_.ignoredAuthResults).toBe(1);
  });

  it("SpamAssassin: Yes with score and threshold", () => {
    const verdicts = receiverVerdicts(SPAMASSASSIN_SPAM, { trustedAuthservIds: ["example.com"] });
    expect(verdicts.spam).toEqual([{ filter: "spamassassin", verdict: "spam", score: 7.1, threshold: 5 }]);
    expect(verdicts.authservId).toBeUndefined();
  });

  it("rspamd: its fields count even below the probe's own, the action decides", () => {
    const verdicts = receiverVerdicts(RSPAMD_ADD_HEADER, { trustedAuthservIds: ["mx.example.org"] });
    expect(verdicts.spam).toEqual([
      { filter: "rspamd", verdict: "spam", score: 8.4, threshold: 15, detail: "add header" },
    ]);
    expect(verdicts.dmarc).toMatchObject({ result: "pass", reason: "policy=none" });
  });

  it("rspamd's own X-Spam-Status (no required=) is no SpamAssassin verdict; SpamAssassin's beside rspamd's still is", () => {
    const verdicts = receiverVerdicts(RSPAMD_WITH_SPAM_STATUS, { trustedAuthservIds: ["example.org"] });
    expect(verdicts.spam).toEqual([
      { filter: "rspamd", verdict: "ham", score: 0.4, threshold: 15, detail: "no action" },
    ]);
    expect(verdicts.dmarc).toEqual({ result: "pass", reason: "policy=reject", domain: "example.net" });
    // OpenDKIM's field and rspamd's both count; SPF is rspamd's alone.
    expect(verdicts).toMatchObject({
      spf: { result: "pass", domain: "example.net" },
      dkim: { result: "pass", domain: "example.net" },
      ignoredAuthResults: 0,
      problems: [],
    });
    // A SpamAssassin behind rspamd writes required=: both verdicts count.
    const both = RSPAMD_WITH_SPAM_STATUS.map((line) =>
      line.startsWith("X-Spam-Status:") ? "X-Spam-Status: Yes, score=7.1 required=5.0 tests=BAYES_99" : line,
    );
    expect(receiverVerdicts(both, { trustedAuthservIds: ["example.org"] }).spam.map((v) => v.filter)).toEqual(
      ["spamassassin", "rspamd"],
    );
    // Without rspamd's fields, a bare "No, score=" is SpamAssassin's (or amavis') as before.
    const bare = RSPAMD_WITH_SPAM_STATUS.filter((line) => /^(X-Spam-Status|Authentication)/.test(line));
    expect(receiverVerdicts(bare, { trustedAuthservIds: ["example.org"] }).spam).toEqual([
      { filter: "spamassassin", verdict: "ham", score: 0.4 },
    ]);
  });

  it("a probe with no verdicts at all gives an empty result", () => {
    expect(receiverVerdicts(PROBE_AS_SENT, { trustedAuthservIds: ["example.com"] })).toEqual({
      spam: [],
      ignoredAuthResults: 0,
      problems: [],
    });
    expect(receiverVerdicts([], { trustedAuthservIds: [] }).spam).toEqual([]);
  });
});

describe("receiverVerdicts: which Authentication-Results count", () => {
  const receiverEntry = [
    "Received: from relay.example.net (relay.example.net [192.0.2.20])",
    "\tby mail.example.com (Postfix) with ESMTPS id 4Sf0Q3BBBB; Wed, 02 Dec 2026 10:00:01 +0000",
  ];

  it("ignores one the probe carried when it was sent, even with the receiver's id", () => {
    const forgedInProbe = [
      ...receiverEntry,
      "X-Scout-Probe: v1.token",
      "Authentication-Results: mail.example.com; dmarc=pass header.from=example.net",
      "From: scout@example.net",
    ];
    const verdicts = receiverVerdicts(forgedInProbe, { trustedAuthservIds: ["example.com"] });
    expect(verdicts.dmarc).toBeUndefined();
    expect(verdicts.ignoredAuthResults).toBe(1);
  });

  it("ignores one written before the receiver's entry by a relay using the receiver's id", () => {
    const lines = [
      "Authentication-Results: mail.example.com; dmarc=fail header.from=example.net",
      ...receiverEntry,
      "Received: from monitor.example.net by relay.example.net; Wed, 02 Dec 2026 10:00:00 +0000",
      "Authentication-Results: mail.example.com; dmarc=pass header.from=example.net",
      "X-Scout-Probe: v1.token",
    ];
    const verdicts = receiverVerdicts(lines, { trustedAuthservIds: ["example.com"] });
    expect(verdicts.dmarc).toMatchObject({ result: "fail" });
    expect(verdicts.ignoredAuthResults).toBe(1);
  });

  it("ignores another host's fields and takes the newest of the receiver's", () => {
    const lines = [
      "Authentication-Results: mail.example.com; dmarc=fail header.from=example.net",
      "Authentication-Results: mail.example.com; dmarc=pass header.from=example.net; spf=pass smtp.mailfrom=example.net",
      "Authentication-Results: relay.example.net; dkim=pass header.d=example.net",
      "Authentication-Results: notexample.com; arc=pass",
      ...receiverEntry,
      "X-Scout-Probe: v1.token",
    ];
    const verdicts = receiverVerdicts(lines, { trustedAuthservIds: ["example.com"] });
    expect(verdicts.dmarc?.result).toBe("fail");
    expect(verdicts.spf?.result).toBe("pass");
    expect(verdicts.dkim).toBeUndefined();
    expect(verdicts.arc).toBeUndefined();
    expect(verdicts.ignoredAuthResults).toBe(2);
  });

  it("a DKIM pass among several signatures wins", () => {
    const lines = [
      "Authentication-Results: mx.example.com; dkim=fail header.d=other.example; dkim=pass header.d=example.net",
      "X-Scout-Probe: v1.token",
    ];
    const verdicts = receiverVerdicts(lines, { trustedAuthservIds: ["mx.example.com"] });
    expect(verdicts.dkim).toEqual({ result: "pass", domain: "example.net" });
  });

  it("reads ARC's verdict", () => {
    const lines = ["Authentication-Results: mx.example.com; arc=pass (i=1)", "X-Scout-Probe: v1.token"];
    expect(receiverVerdicts(lines, { trustedAuthservIds: ["mx.example.com"] }).arc).toEqual({
      result: "pass",
      reason: "i=1",
    });
  });

  it("malformed fields give problems and unknowns, never an exception", () => {
    const lines = [
      "Authentication-Results: mx.example.com; dmarc=maybe; spf; dkim=pass=x; ===; (unclosed",
      "Authentication-Results: mx.example.com",
      "Authentication-Results:",
      'Authentication-Results: "mx.example.com; dmarc=pass',
      "X-Spam-Status: perhaps, score=abc",
      "X-Forefront-Antispam-Report: SCL:x;SFV:???",
      "X-Scout-Probe: v1.token",
    ];
    const verdicts = receiverVerdicts(lines, { trustedAuthservIds: ["mx.example.com"] });
    expect(verdicts.dmarc).toBeUndefined();
    expect(verdicts.problems).toEqual([
      'dmarc: unknown result "maybe"',
      'not a method=result: "spf"',
      'dkim: bad result "pass=x"',
      'not a method=result: "==="',
    ]);
    expect(verdicts.spam).toEqual([
      {
        filter: "spamassassin",
        verdict: "unknown",
        detail: "X-Spam-Status/X-Spam-Flag says neither Yes nor No",
      },
      { filter: "microsoft", verdict: "unknown" },
    ]);
    expect(verdicts.ignoredAuthResults).toBe(2);
  });
});

describe("receiverVerdicts: hostile sizes", () => {
  it("reads a 200 kB field of separators and quotes in linear time", () => {
    const lines = [
      `Authentication-Results: mx.example.com; ${"= . / ".repeat(20_000)}"${"\\".repeat(20_000)}`,
      `X-Spam-Status: Yes, score=${"9".repeat(50_000)}`,
      "X-Scout-Probe: v1.token",
    ];
    const verdicts = receiverVerdicts(lines, { trustedAuthservIds: ["mx.example.com"] });
    expect(verdicts.problems.length).toBeGreaterThan(0);
    expect(verdicts.spam[0]).toMatchObject({ filter: "spamassassin", verdict: "spam" });
  });
});

describe("fetchedVerdicts and verdictText", () => {
  it("adds the folder a fetched probe was found in to what its header says", () => {
    const verdicts = fetchedVerdicts(
      MICROSOFT_JUNK,
      { name: "Junk Email", junk: true },
      {
        trustedAuthservIds: ["(none)"],
      },
    );
    expect(verdicts.folder).toEqual({ name: "Junk Email", junk: true });
    expect(verdicts.dmarc?.result).toBe("fail");
    expect(verdictText(verdicts)).toBe(
      "in junk Junk Email, spf softfail, dkim none, dmarc fail (action=quarantine), spam: microsoft SCL 5",
    );
  });

  it("says so when the receiver wrote nothing", () => {
    expect(verdictText(receiverVerdicts(PROBE_AS_SENT, { trustedAuthservIds: ["example.com"] }))).toBe(
      "no verdicts",
    );
    const ham = receiverVerdicts(
      SPAMASSASSIN_SPAM.map((line) => line.replace("Yes, score=7.1", "No, score=1.2")),
      {
        trustedAuthservIds: [],
      },
    );
    expect(verdictText(ham)).toBe("ham: spamassassin 1.2/5");
  });
});
