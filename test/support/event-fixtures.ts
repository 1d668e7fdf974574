import { DEFAULT_THRESHOLDS } from "../../core/checks/evaluate.ts";
import type { CheckResult } from "../../core/checks/result.ts";
import type { TlsFacts } from "../../core/checks/tls-facts.ts";
import type { ProbeRecord } from "../../core/ports/probe-store.ts";

export const T0 = Date.parse("2026-06-01T08:00:00.000Z");
export const DAY_MS = 86_400_000;
export const ENDPOINT = "smtp://mx1.example.com";

export function tlsFacts(daysLeft: number, overrides: Partial<TlsFacts> = {}): TlsFacts {
  return {
    protocol: "TLSv1.3",
    cipher: "TLS_AES_256_GCM_SHA384",
    checkedName: "mx1.example.com",
    hostnameMatch: true,
    chainTrusted: true,
    certificate: {
      subject: "CN=mx1.example.com",
      subjectAltNames: ["DNS:mx1.example.com"],
      issuer: "C=US, O=Let's Encrypt, CN=R11",
      serialNumber: "04A1B2C3",
      fingerprintSha256: "AA:BB:CC",
      notBefore: new Date(T0 - 60 * DAY_MS).toISOString(),
      notAfter: new Date(T0 + daysLeft * DAY_MS + 3_600_000).toISOString(),
      daysLeft,
    },
    ...overrides,
  };
}

export function checkResult(overrides: Partial<CheckResult> = {}): CheckResult {
  return {
    endpoint: ENDPOINT,
    kind: "smtp",
    protocol: "smtp",
    host: "mx1.example.com",
    port: 25,
    address: "192.0.2.25",
    status: "OK",
    reason: "ok",
    message: "every phase answered as expected",
    problems: [],
    startedAt: new Date(T0).toISOString(),
    responseMs: 182,
    totalMs: 240,
    timings: { resolve: 4, connect: 12, greeting: 60, capabilities: 20, starttls: 15, tls: 75 },
    banner: "220 mx1.example.com ESMTP",
    startTls: "used",
    tls: tlsFacts(80),
    login: "not-asked",
    thresholds: DEFAULT_THRESHOLDS,
    ...overrides,
  };
}

export function probeRecord(overrides: Partial<ProbeRecord> = {}): ProbeRecord {
  return {
    probeId: "p_0123456789abcdef",
    targetId: "mx1",
    toAddress: "scout@mx1.example.com",
    messageId: "<p_0123456789abcdef@scout.example.net>",
    sentAtMs: T0,
    deadlineMs: T0 + 300_000,
    state: "returned",
    updatedAtMs: T0 + 4_210,
    returnedAtMs: T0 + 4_210,
    rttMs: 4_210,
    remoteArrivedAtMs: T0 + 1_900,
    remoteClockOffsetMs: -205,
    hops: [
      { from: "scout.example.net", by: "mx1.example.com", with: "ESMTPS", atMs: T0 + 1_800 },
      { by: "mx1.example.com", with: "LMTP", atMs: T0 + 1_900 },
    ],
    ...overrides,
  };
}
