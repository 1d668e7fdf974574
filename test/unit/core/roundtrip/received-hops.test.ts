import { describe, expect, it } from "vitest";
import { hopFromReceived, hopsFromHeaderLines } from "../../../../core/roundtrip/received-hops.ts";

const at = (iso: string) => Date.parse(iso);

describe("hopFromReceived", () => {
  const cases: { name: string; value: string; hop: object }[] = [
    {
      name: "Postfix with TLS comments (comments may hold words like 'with')",
      value:
        "from relay.example.net (relay.example.net [192.0.2.10])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n\t(No client certificate requested)\r\n\tby mx1.example.com (Postfix) with ESMTPS id 4SfRkQ0DxWz9vCx\r\n\tfor <probe@mx1.example.com>; Tue, 28 Nov 2023 12:00:01 +0000 (UTC)",
      hop: {
        from: "relay.example.net",
        by: "mx1.example.com",
        with: "ESMTPS",
        atMs: at("2023-11-28T12:00:01Z"),
      },
    },
    {
      name: "Postfix local pickup: no from clause",
      value:
        "by mail.example.com (Postfix, from userid 1000)\n\tid 77AB10C2; Tue, 28 Nov 2023 13:00:00 +0100 (CET)",
      hop: { by: "mail.example.com", atMs: at("2023-11-28T12:00:00Z") },
    },
    {
      name: "Exchange: a with clause of several words",
      value:
        "from AM0PR01MB1234.eurprd01.prod.exchangelabs.com (2603:10a6:208:1::12) by AM0PR01MB5678.eurprd01.prod.exchangelabs.com (2603:10a6:208:2::34) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7025.20; Tue, 28 Nov 2023 12:00:02 +0000",
      hop: {
        from: "AM0PR01MB1234.eurprd01.prod.exchangelabs.com",
        by: "AM0PR01MB5678.eurprd01.prod.exchangelabs.com",
        with: "Microsoft SMTP Server",
        atMs: at("2023-11-28T12:00:02Z"),
      },
    },
    {
      name: "Gmail: an IPv6 by, a zone offset",
      value:
        "by 2002:a05:6a10:9e8b:b0:4f4:2d0e:1c2a with SMTP id x12csp1234567pxb;\r\n        Tue, 28 Nov 2023 04:00:03 -0800 (PST)",
      hop: { by: "2002:a05:6a10:9e8b:b0:4f4:2d0e:1c2a", with: "SMTP", atMs: at("2023-11-28T12:00:03Z") },
    },
    {
      name: "keywords in upper case, a nested comment",
      value: "FROM a.example (x (nested by z) y) BY b.example WITH LMTPSA; 28 Nov 2023 12:00:04 GMT",
      hop: { from: "a.example", by: "b.example", with: "LMTPSA", atMs: at("2023-11-28T12:00:04Z") },
    },
    {
      name: "no date",
      value: "from a.example by b.example with SMTP",
      hop: { from: "a.example", by: "b.example", with: "SMTP" },
    },
    {
      name: "a date that is not one",
      value: "from a.example by b.example; yesterday-ish",
      hop: { from: "a.example", by: "b.example" },
    },
    { name: "a keyword without a value", value: "from by b.example with", hop: { by: "b.example" } },
    {
      name: "an unclosed comment",
      value: "from a.example (unclosed by b.example; Tue, 28 Nov 2023 12:00:00 +0000",
      hop: { from: "a.example" },
    },
    { name: "empty", value: "", hop: {} },
    { name: "binary noise", value: "\u0000\u00ff;;;(((\\)))by", hop: {} },
  ];

  it.each(cases)("$name", ({ value, hop }) => {
    expect(hopFromReceived(value)).toStrictEqual(hop);
  });

  it("reads a 2 MB value without trouble", () => {
    const hop = hopFromReceived(
      `from ${"a".repeat(2 * 1024 * 1024)} by b.example; 28 Nov 2023 12:00:00 +0000`,
    );
    expect(hop.by).toBe("b.example");
    expect(hop.atMs).toBe(at("2023-11-28T12:00:00Z"));
  });
});

describe("hopsFromHeaderLines", () => {
  it("reads a Postfix Received chain oldest first, folding lines included", () => {
    const lines = [
      "Return-Path: <bounces+x@scout.example.net>",
      "Delivered-To: probe@mx1.example.com",
      "Received: from relay.example.net (relay.example.net [192.0.2.10])",
      "\tby mx1.example.com (Postfix) with ESMTPS id 4Sf0Q21234",
      "\tfor <probe@mx1.example.com>; Tue, 28 Nov 2023 12:00:01 +0000 (UTC)",
      "X-Other: from nowhere by nobody",
      "\tcontinued",
      "RECEIVED: from localhost (localhost [127.0.0.1])",
      "\tby relay.example.net (Postfix) with ESMTP id 77AB;",
      "\tTue, 28 Nov 2023 12:00:00 +0000 (UTC)",
      "Subject: probe",
    ];
    expect(hopsFromHeaderLines(lines)).toEqual([
      { from: "localhost", by: "relay.example.net", with: "ESMTP", atMs: at("2023-11-28T12:00:00Z") },
      { from: "relay.example.net", by: "mx1.example.com", with: "ESMTPS", atMs: at("2023-11-28T12:00:01Z") },
    ]);
  });

  it("keeps the newest 100 hops: a sender can only append fakes below the real ones", () => {
    const real = Array.from(
      { length: 3 },
      (_, i) => `Received: by real${i}.example; 28 Nov 2023 12:00:0${i} +0000`,
    );
    const fake = Array.from({ length: 500 }, (_, i) => `Received: by fake${i}.example`);
    const hops = hopsFromHeaderLines([...real, ...fake]);
    expect(hops).toHaveLength(100);
    expect(hops.slice(-3).map((h) => h.by)).toEqual(["real2.example", "real1.example", "real0.example"]);
  });

  it("returns nothing for a block without Received fields", () => {
    expect(hopsFromHeaderLines(["Subject: x", "\tcontinued", ""])).toEqual([]);
    expect(hopsFromHeaderLines(["\tby orphan.example"])).toEqual([]);
  });
});
