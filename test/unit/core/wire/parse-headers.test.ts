import { describe, expect, it } from "vitest";
import { headerValue, parseMessage } from "../../../../core/wire/parse-headers.ts";
import { probeMessage } from "../../../support/probe-fixture.ts";

describe("parseMessage", () => {
  it.each(["\n", "\r\n"] as const)("splits From_ line, header block and fields (line end %j)", (lineEnd) => {
    const message = parseMessage(Buffer.from(probeMessage({ lineEnd })));
    expect(message.mboxSender).toBe("bounces+PrObE_id-12345678@scout.example.net");
    expect(message.complete).toBe(true);
    expect(message.headerLines[0]).toBe("Return-Path: <bounces+PrObE_id-12345678@scout.example.net>");
    expect(message.headerLines.at(-1)).toBe("Date: Tue, 28 Nov 2023 12:00:00 +0000");
    expect(message.headerLines.some((l) => l.includes("\r"))).toBe(false);
    expect(message.headerLines).toContain("\tby mx1.example.com (Postfix) with ESMTPS id 4Sf0Q21234");
    expect(headerValue(message.fields, "received")).toBe(
      "from out.scout.example.net (out.scout.example.net [192.0.2.10])\tby mx1.example.com (Postfix) with ESMTPS id 4Sf0Q21234\tfor <probe@mx1.example.com>; Tue, 28 Nov 2023 12:00:01 +0000 (UTC)",
    );
    expect(message.fields.filter((f) => f.name === "Received")).toHaveLength(2);
    expect(headerValue(message.fields, "X-Scout-Probe")).toMatch(/^v2\..{30,} .+$/);
  });

  it("works without a From_ line", () => {
    const message = parseMessage(Buffer.from(probeMessage({ mboxFromLine: null })));
    expect(message.mboxSender).toBeUndefined();
    expect(message.headerLines[0]).toMatch(/^Return-Path:/);
  });

  it("reads the null sender of a From_ line as written", () => {
    expect(parseMessage(Buffer.from("From MAILER-DAEMON  Tue Nov 28\nSubject: x\n\n")).mboxSender).toBe(
      "MAILER-DAEMON",
    );
  });

  it("keeps 8-bit bytes one character each, and odd lines in the block", () => {
    const data = Buffer.concat([
      Buffer.from("Subject: caf"),
      Buffer.from([0xe9]),
      Buffer.from("\nnot a field\nX: 1\n\n"),
    ]);
    const message = parseMessage(data);
    expect(message.headerLines).toEqual(["Subject: caf\u00e9", "not a field", "X: 1"]);
    expect(message.fields.map((f) => f.name)).toEqual(["Subject", "X"]);
  });

  it("marks a block cut before its blank line as incomplete", () => {
    expect(parseMessage(Buffer.from("Subject: a\nX-Long: b\n")).complete).toBe(false);
    expect(parseMessage(Buffer.from("Subject: a\nX-Lo")).headerLines).toEqual(["Subject: a", "X-Lo"]);
  });

  it("ignores a folded line with no field before it, and body lines", () => {
    const message = parseMessage(Buffer.from(" orphan\nA: 1\n\nB: 2\n"));
    expect(message.fields).toEqual([{ name: "A", value: "1" }]);
  });
});
