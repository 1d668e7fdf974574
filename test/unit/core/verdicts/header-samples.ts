/*
 * Header blocks as receivers deliver them, newest field first, shaped after the receivers'
 * documentation and messages they delivered: RFC 8601 Appendix B, Google's "Authentication-
 * Results" as shown by "Show original", Microsoft's "Anti-spam message headers" page, the
 * OpenDKIM/OpenDMARC and SpamAssassin/rspamd manuals. The probe's own fields come last, as
 * the monitor wrote them.
 */

/** The probe as it left the monitor (after a relay's Received field). */
export const PROBE_AS_SENT = [
  "Received: from monitor.example.net (monitor.example.net [192.0.2.10])",
  "\tby relay.example.net (Postfix) with ESMTPS id 4Sf0Q2AAAA",
  "\tfor <probe@example.com>; Wed, 02 Dec 2026 10:00:00 +0000 (UTC)",
  "X-Scout-Probe: v1.AAAAAAAAAAAAAAAAAAAAAA.target.1796205600000.sig",
  "Auto-Submitted: auto-generated",
  "From: scout@example.net",
  "To: probe@example.com",
  "Subject: Email Scout probe",
  "Message-ID: <probe.AAAAAAAAAAAAAAAAAAAAAA@example.net>",
];

/** Postfix with OpenDKIM and OpenDMARC milters (each inserts its field at the top), policyd-spf. */
export const POSTFIX_OPENDMARC_FAIL = [
  "Return-Path: <bounces+AAAAAAAAAAAAAAAAAAAAAA@example.net>",
  "Delivered-To: probe@example.com",
  "Authentication-Results: mail.example.com; dmarc=fail (p=reject dis=none) header.from=example.net",
  "Authentication-Results: mail.example.com;",
  '\tdkim=fail reason="signature verification failed" (2048-bit key;',
  '\tunprotected) header.d=example.net header.i=@example.net header.b="Tm9wZQ";',
  "\tdkim-atps=neutral",
  "Received-SPF: Fail (mailfrom) identity=mailfrom; client-ip=192.0.2.20; helo=relay.example.net;",
  " envelope-from=bounces+AAAAAAAAAAAAAAAAAAAAAA@example.net; receiver=<UNKNOWN>",
  "Received: from relay.example.net (relay.example.net [192.0.2.20])",
  "\tby mail.example.com (Postfix) with ESMTPS id 4Sf0Q3BBBB",
  "\tfor <probe@example.com>; Wed, 02 Dec 2026 10:00:01 +0000 (UTC)",
  ...PROBE_AS_SENT,
];

/** Gmail: its Authentication-Results sits below its own Received field, ARC set above. */
export const GMAIL_PASS = [
  "Delivered-To: probe@gmail.com",
  "Received: by 2002:a05:6000:1a8c:b0:33b:1234:5678 with SMTP id i12csp123456wrx;",
  "        Wed, 2 Dec 2026 02:00:02 -0800 (PST)",
  "X-Google-Smtp-Source: AGHT+IF0example",
  "ARC-Seal: i=1; a=rsa-sha256; t=1796205602; cv=none; d=google.com; s=arc-20160816; b=c2ln",
  "ARC-Authentication-Results: i=1; mx.google.com;",
  "       dkim=pass header.i=@example.net header.s=s1 header.b=abcd;",
  "       spf=pass (google.com: domain of bounces@example.net designates 192.0.2.20 as permitted sender) smtp.mailfrom=bounces@example.net;",
  "       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.net",
  "Return-Path: <bounces+AAAAAAAAAAAAAAAAAAAAAA@example.net>",
  "Received: from relay.example.net (relay.example.net. [192.0.2.20])",
  "        by mx.google.com with ESMTPS id a1si1234567wrx.123.2026.12.02.02.00.02",
  "        for <probe@gmail.com>; Wed, 02 Dec 2026 02:00:02 -0800 (PST)",
  "Received-SPF: pass (google.com: domain of bounces@example.net designates 192.0.2.20 as permitted sender) client-ip=192.0.2.20;",
  "Authentication-Results: mx.google.com;",
  "       dkim=pass header.i=@example.net header.s=s1 header.b=abcd;",
  "       spf=pass (google.com: domain of bounces@example.net designates 192.0.2.20 as permitted sender) smtp.mailfrom=bounces@example.net;",
  "       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.net",
  ...PROBE_AS_SENT,
];

/** Microsoft 365: no authserv-id, Forefront report with SCL 5 (spam), filed in Junk. */
export const MICROSOFT_JUNK = [
  "Received: from AM9PR07MB1234.eurprd07.prod.outlook.com (2603:10a6:20b:123::45) by",
  " DB9PR07MB5678.eurprd07.prod.outlook.com with HTTPS; Wed, 2 Dec 2026 10:00:03 +0000",
  "Authentication-Results: spf=softfail (sender IP is 192.0.2.20)",
  " smtp.mailfrom=example.net; dkim=none (message not signed)",
  " header.d=none;dmarc=fail action=quarantine header.from=example.net;compauth=fail",
  " reason=001",
  "Received-SPF: SoftFail (protection.outlook.com: domain of transitioning example.net",
  " discourages use of 192.0.2.20 as permitted sender)",
  "X-MS-Exchange-Organization-SCL: 5",
  "X-Forefront-Antispam-Report:",
  " CIP:192.0.2.20;CTRY:NL;LANG:en;SCL:5;SRV:;IPV:NLI;SFV:SPM;H:relay.example.net;PTR:relay.example.net;CAT:SPM;SFS:(13230031);DIR:INB;",
  "Received: from relay.example.net (192.0.2.20) by",
  " AM9PR07MB1234.mail.protection.outlook.com (10.167.16.10) with Microsoft SMTP",
  " Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id",
  " 15.20.7000.20 via Frontend Transport; Wed, 2 Dec 2026 10:00:02 +0000",
  ...PROBE_AS_SENT,
];

/** SpamAssassin (spamd) flagged it; its fields are at the top. */
export const SPAMASSASSIN_SPAM = [
  "X-Spam-Checker-Version: SpamAssassin 3.4.6 (2021-04-09) on mail.example.com",
  "X-Spam-Flag: YES",
  "X-Spam-Level: *******",
  "X-Spam-Status: Yes, score=7.1 required=5.0 tests=BAYES_99,RDNS_NONE,",
  "\tSPF_FAIL autolearn=no autolearn_force=no version=3.4.6",
  "Received: from relay.example.net (relay.example.net [192.0.2.20])",
  "\tby mail.example.com (Postfix) with ESMTPS id 4Sf0Q3BBBB",
  "\tfor <probe@example.com>; Wed, 02 Dec 2026 10:00:01 +0000 (UTC)",
  ...PROBE_AS_SENT,
];

/** rspamd through its milter: A-R at the top, its spam fields appended after the probe's. */
export const RSPAMD_ADD_HEADER = [
  "Authentication-Results: mx.example.org;",
  "\tdkim=pass header.d=example.net header.s=s1 header.b=abcd;",
  "\tspf=pass (mx.example.org: domain of bounces@example.net designates 192.0.2.20 as permitted sender) smtp.mailfrom=bounces@example.net;",
  "\tdmarc=pass (policy=none) header.from=example.net",
  "Received: from relay.example.net (relay.example.net [192.0.2.20])",
  "\tby mx.example.org (Postfix) with ESMTPS id 4Sf0Q3CCCC",
  "\tfor <probe@example.org>; Wed, 02 Dec 2026 10:00:01 +0000 (UTC)",
  ...PROBE_AS_SENT,
  "X-Rspamd-Queue-Id: 4Sf0Q3CCCC",
  "X-Spamd-Result: default: True [8.40 / 15.00];",
  "\tBAYES_SPAM(5.10)[99.99%];",
  "\tR_DKIM_ALLOW(-0.20)[example.net:s=s1]",
  "X-Rspamd-Server: mx.example.org",
  "X-Rspamd-Action: add header",
  "X-Spam: Yes",
];

/**
 * Postfix with OpenDKIM and rspamd 3.4 as milters, as the demo host delivered a signed probe
 * (scripts/demo-mailhost/spam-filter.sh; names and addresses changed): OpenDKIM's field on top,
 * rspamd's below it, rspamd's spam fields last. Its milter headers module, with the
 * x-spam-status routine, writes a SpamAssassin-style X-Spam-Status without required=.
 */
export const RSPAMD_WITH_SPAM_STATUS = [
  "Authentication-Results: mail.example.org;",
  "\tdkim=pass (2048-bit key; unprotected) header.d=example.net header.i=@example.net header.a=rsa-sha256 header.s=demo header.b=BOK3mgvw;",
  "\tdkim-atps=neutral",
  "Authentication-Results: mail.example.org;",
  "\tdkim=pass header.d=example.net header.s=demo header.b=BOK3mgvw;",
  "\tdmarc=pass (policy=reject) header.from=example.net;",
  "\tspf=pass (mail.example.org: domain of bounces@example.net designates 192.0.2.20 as permitted sender) smtp.mailfrom=bounces@example.net",
  "Received: from relay.example.net (relay.example.net [192.0.2.20])",
  "\tby mail.example.org (Postfix) with ESMTP id 6D95616A071",
  "\tfor <probe@example.org>; Wed, 02 Dec 2026 13:44:22 +0000 (UTC)",
  ...PROBE_AS_SENT,
  "X-Rspamd-Server: mail.example.org",
  "X-Rspamd-Queue-Id: 6D95616A071",
  "X-Spamd-Result: default: False [0.40 / 15.00];",
  "\tRDNS_NONE(1.00)[];",
  "\tDMARC_POLICY_ALLOW(-0.50)[example.net,reject];",
  "\tR_SPF_ALLOW(-0.20)[+ip4:192.0.2.0/24]",
  "X-Spam-Status: No, score=0.40",
  "X-Rspamd-Action: no action",
];
