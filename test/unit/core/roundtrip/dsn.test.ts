import { readFileSync } from "node:fs";
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import {
  dsnPartsOf,
  isDeliveryStatusReport,
  parseDeliveryStatus,
  recipientWithAction,
} from "../../../../core/roundtrip/dsn.ts";

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/dsn/${name}`, import.meta.url));
// The options correlate.ts parses with: both DSN parts arrive as attachments.
const parse = (raw: Buffer | string) => simpleParser(raw, { keepDeliveryStatus: true, ignoreEmbedded: true });

describe("dsnPartsOf", () => {
  it("reads Postfix's 5.1.1 user-unknown bounce", async () => {
    const parsed = await parse(fixture("postfix-5.1.1.eml"));
    expect(isDeliveryStatusReport(parsed)).toBe(true);
    const { status, originalHeaders } = dsnPartsOf(parsed);
    expect(status).toEqual({
      reportingMta: "dns; mail.scout.test",
      arrivalDate: "Tue, 28 Nov 2023 12:00:01 +0000 (UTC)",
      recipients: [
        {
          finalRecipient: "rfc822; nobody@scout.test",
          originalRecipient: "rfc822;nobody@scout.test",
          action: "failed",
          status: "5.1.1",
          diagnosticCode: 'X-Postfix; unknown user: "nobody"',
        },
      ],
    });
    expect(originalHeaders?.toString()).toMatch(/^Return-Path: <bounces\+dsnFixtureProbe-01@/);
    expect(originalHeaders?.toString()).toContain("X-Scout-Probe: v1.dsnFixtureProbe-01.");
  });

  it("reads Postfix's delay warning, folded Diagnostic-Code unfolded", async () => {
    const { status } = dsnPartsOf(await parse(fixture("postfix-4.4.1-delayed.eml")));
    expect(status?.recipients).toEqual([
      {
        finalRecipient: "rfc822; probe@mx.scout.test",
        originalRecipient: "rfc822;probe@mx.scout.test",
        action: "delayed",
        status: "4.4.1",
        diagnosticCode: "X-Postfix; connect to mx.scout.test[192.0.2.25]:25: Connection timed out",
      },
    ]);
  });

  it("takes the original headers from a returned message/rfc822 part (Exim, Exchange)", async () => {
    const raw = [
      "From: Mail Delivery System <Mailer-Daemon@mx.example.org>",
      "To: bounces+dsnFixtureProbe-01@scout-returns.example.com",
      "Subject: Mail delivery failed: returning message to sender",
      "MIME-Version: 1.0",
      'Content-Type: multipart/report; report-type="Delivery-Status"; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain",
      "",
      "This message was created automatically by mail delivery software.",
      "--b1",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; mx.example.org",
      "",
      "Action: failed",
      "Final-Recipient: rfc822;probe@mx.example.org",
      "Status: 5.2.2 (mailbox full)",
      "Remote-MTA: dns; store.example.org",
      "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full",
      "",
      "--b1",
      "Content-Type: message/rfc822",
      "",
      "X-Scout-Probe: v1.token",
      "Subject: Email Scout probe",
      "",
      "This is the probe body.",
      "--b1--",
      "",
    ].join("\r\n");
    const parsed = await parse(raw);
    expect(isDeliveryStatusReport(parsed)).toBe(true);
    const { status, originalHeaders } = dsnPartsOf(parsed);
    expect(status?.recipients[0]).toEqual({
      finalRecipient: "rfc822;probe@mx.example.org",
      action: "failed",
      status: "5.2.2",
      diagnosticCode: "smtp; 552 5.2.2 Mailbox full",
      remoteMta: "dns; store.example.org",
    });
    expect(originalHeaders?.toString()).toContain("X-Scout-Probe: v1.token");
  });

  it("finds neither part in an ordinary message", async () => {
    const parsed = await parse("Content-Type: text/plain\r\n\r\nhello\r\n");
    expect(isDeliveryStatusReport(parsed)).toBe(false);
    expect(dsnPartsOf(parsed)).toEqual({});
  });

  it("knows the RFC 6533 global report type, and nothing else", async () => {
    const report = (type: string) =>
      parse(`Content-Type: multipart/report; report-type=${type}; boundary=x\r\n\r\n--x--\r\n`);
    expect(isDeliveryStatusReport(await report("global-delivery-status"))).toBe(true);
    expect(isDeliveryStatusReport(await report("disposition-notification"))).toBe(false);
  });
});

describe("parseDeliveryStatus", () => {
  it("reads every recipient group; CRLF, upper-case actions and status comments", () => {
    const status = parseDeliveryStatus(
      [
        "Reporting-MTA: dns; mx.example.org",
        "",
        "Final-Recipient: rfc822; a@example.org",
        "Action: FAILED (permanent)",
        "Status: 5.1.1 (bad destination mailbox address)",
        "",
        "",
        "Final-Recipient: rfc822; b@example.org",
        "Action: delayed",
        "Status: 4.7.0",
        "",
      ].join("\r\n"),
    );
    expect(status?.recipients).toEqual([
      { finalRecipient: "rfc822; a@example.org", action: "failed", status: "5.1.1" },
      { finalRecipient: "rfc822; b@example.org", action: "delayed", status: "4.7.0" },
    ]);
    expect(status && recipientWithAction(status, "delayed")?.finalRecipient).toBe("rfc822; b@example.org");
    expect(status && recipientWithAction(status, "relayed")).toBeUndefined();
  });

  it("reads a recipient group with no per-message group before it", () => {
    expect(parseDeliveryStatus("Action: failed\nStatus: 5.0.0\n")?.recipients).toEqual([
      { action: "failed", status: "5.0.0" },
    ]);
  });

  it("leaves out a status that is not an RFC 3463 code", () => {
    expect(parseDeliveryStatus("Action: failed\nStatus: 9.1.1\n")?.recipients).toEqual([
      { action: "failed" },
    ]);
    expect(parseDeliveryStatus("Action: failed\nStatus: 5.1.1234\n")?.recipients).toEqual([
      { action: "failed" },
    ]);
  });

  it("keeps the first of a repeated field", () => {
    expect(parseDeliveryStatus("Action: failed\nStatus: 5.1.1\nStatus: 2.0.0\n")?.recipients[0]?.status).toBe(
      "5.1.1",
    );
  });

  it.each([
    ["empty", ""],
    ["per-message fields only", "Reporting-MTA: dns; mx.example.org\nArrival-Date: today\n"],
    ["garbage", "\u0000\u00ff\n::\n\t\n"],
    ["over 64 kB", `Action: failed\nX-Pad: ${"x".repeat(70_000)}\n`],
  ])("gives undefined for %s", (_, text) => {
    expect(parseDeliveryStatus(text)).toBeUndefined();
  });
});
