import { describe, expect, it } from "vitest";
import { storedMailEnvelope } from "../../../../lambdas/aws/ses-stored-envelope.ts";

const ours = {
  returnAddress: "returns@scout-returns.example.com",
  inboundDomain: "scout-returns.example.com",
};
const mail = (...headers: string[]) => Buffer.from(`${headers.join("\r\n")}\r\n\r\nbody\r\n`);

describe("storedMailEnvelope", () => {
  it("takes the recipient from the Received field SES puts on top, and the sender from Return-Path", () => {
    const raw = mail(
      "Return-Path: <MAILER-DAEMON@mx1.example.com>",
      "Received: from mx1.example.com (mx1.example.com [192.0.2.25])",
      " by inbound-smtp.eu-west-1.amazonaws.com with SMTP id 0abc",
      " for bounces+AAAAAAAAAAAAAAAAAAAAAA@scout-returns.example.com;",
      " Mon, 01 Jun 2026 12:00:04 +0000 (UTC)",
      "Received: by mx1.example.com (Postfix) for <someone@else.example>; Mon, 01 Jun 2026 12:00:03 +0000",
      "To: returns@scout-returns.example.com",
    );
    expect(storedMailEnvelope(raw, ours)).toEqual({
      mailFrom: "MAILER-DAEMON@mx1.example.com",
      rcptTo: ["bounces+AAAAAAAAAAAAAAAAAAAAAA@scout-returns.example.com"],
    });
  });

  it("falls back to our addresses among To and Cc when SES named no recipient", () => {
    const raw = mail(
      "Received: from mx1.example.com by inbound-smtp.eu-west-1.amazonaws.com with SMTP id 0abc; Mon, 01 Jun 2026",
      'To: "Returns" <Returns@Scout-Returns.example.com>, other@example.org',
      "Cc: bounces+BBBBBBBBBBBBBBBBBBBBBB@scout-returns.example.com",
    );
    expect(storedMailEnvelope(raw, ours).rcptTo).toEqual([
      "Returns@Scout-Returns.example.com",
      "bounces+BBBBBBBBBBBBBBBBBBBBBB@scout-returns.example.com",
    ]);
  });

  it("passes on a stranger's address when none is ours, so the correlation rejects it by name", () => {
    expect(storedMailEnvelope(mail("To: victim@example.org"), ours)).toEqual({
      mailFrom: "",
      rcptTo: ["victim@example.org"],
    });
    expect(storedMailEnvelope(mail("Subject: no recipients"), ours).rcptTo).toEqual([]);
  });
});
