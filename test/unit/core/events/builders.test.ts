import { describe, expect, it } from "vitest";
import { certificateExpiringEvent } from "../../../../core/events/certificate-expiring.ts";
import { checkCompletedEvent } from "../../../../core/events/check-completed.ts";
import { EVENT_ID_PATTERN } from "../../../../core/events/event-id.ts";
import { customerOf } from "../../../../core/events/make-event.ts";
import { roundTripCompletedEvent } from "../../../../core/events/roundtrip-completed.ts";
import { statusChangedEvent } from "../../../../core/events/status-changed.ts";
import { webhookTestEvent } from "../../../../core/events/webhook-test.ts";
import { checkResult, DAY_MS, ENDPOINT, probeRecord, T0, tlsFacts } from "../../../support/event-fixtures.ts";
import { schemaErrors } from "../../../support/event-schema.ts";

const NOW = T0 + 500;
const THRESHOLDS = { warningMs: 30_000, criticalMs: 120_000 };
const envelope = { targetId: "mx1", customer: "acme", now: NOW };

describe("envelope", () => {
  it("carries a fresh evt_ id, version 1, the time in ISO UTC with ms, customer and target", () => {
    const event = checkCompletedEvent({ ...envelope, result: checkResult() });
    expect(event).toMatchObject({
      type: "check.completed",
      version: 1,
      time: "2026-06-01T08:00:00.500Z",
      customer: "acme",
      target: "mx1",
    });
    expect(event.id).toMatch(EVENT_ID_PATTERN);
    expect(checkCompletedEvent({ ...envelope, result: checkResult() }).id).not.toBe(event.id);
  });

  it("keeps an id it is given", () => {
    const id = "evt_01JWJ4Z3M0ABCDEFGHJKMNPQRS";
    expect(webhookTestEvent({ now: NOW, customer: "acme", id }).id).toBe(id);
  });

  it("takes the target's customer, or the configured default", () => {
    expect(customerOf({ customer: "acme" }, "default")).toBe("acme");
    expect(customerOf({}, "default")).toBe("default");
  });
});

describe("check.completed", () => {
  it("carries the result's facts and a TLS summary, and validates", () => {
    const event = checkCompletedEvent({ ...envelope, result: checkResult() });
    expect(event.data).toEqual({
      endpoint: ENDPOINT,
      protocol: "smtp",
      kind: "smtp",
      host: "mx1.example.com",
      port: 25,
      address: "192.0.2.25",
      status: "OK",
      reason: "ok",
      message: "every phase answered as expected",
      problems: [],
      startedAt: "2026-06-01T08:00:00.000Z",
      responseMs: 182,
      totalMs: 240,
      timings: { resolve: 4, connect: 12, greeting: 60, capabilities: 20, starttls: 15, tls: 75 },
      tls: {
        protocol: "TLSv1.3",
        cipher: "TLS_AES_256_GCM_SHA384",
        hostnameMatches: true,
        trusted: true,
        notAfter: tlsFacts(80).certificate?.notAfter,
        daysLeft: 80,
        subject: "CN=mx1.example.com",
        issuer: "C=US, O=Let's Encrypt, CN=R11",
      },
    });
    expect(schemaErrors(event)).toEqual([]);
  });

  it("leaves TLS out when there was none, and names the failed phase", () => {
    const result = checkResult({
      status: "CRITICAL",
      reason: "refused",
      message: "connect ECONNREFUSED 192.0.2.25:25",
      problems: [{ status: "CRITICAL", reason: "refused", message: "connect ECONNREFUSED 192.0.2.25:25" }],
      failedPhase: "connect",
      tls: undefined,
      timings: { resolve: 3, connect: 1 },
    });
    const event = checkCompletedEvent({ ...envelope, result });
    expect(event.data).not.toHaveProperty("tls");
    expect(event.data).toMatchObject({ failedPhase: "connect", status: "CRITICAL", reason: "refused" });
    expect(schemaErrors(event)).toEqual([]);
  });

  it("carries the open relay test's outcome when the check ran it", () => {
    const result = checkResult({
      status: "CRITICAL",
      reason: "open-relay",
      message: "the server accepted MAIL FROM:<relay-test@example.net> RCPT TO:<relay-test@example.com> ...",
      openRelay: "accepted",
      timings: { resolve: 3, connect: 1, relayTest: 4 },
    });
    const event = checkCompletedEvent({ ...envelope, result });
    expect(event.data).toMatchObject({ openRelay: "accepted", reason: "open-relay" });
    expect(schemaErrors(event)).toEqual([]);
    expect(schemaErrors({ ...event, data: { ...event.data, openRelay: "maybe" } })).not.toEqual([]);
    expect(checkCompletedEvent({ ...envelope, result: checkResult() }).data).not.toHaveProperty("openRelay");
  });

  it("summarises a handshake without a certificate", () => {
    const tls = { ...tlsFacts(0), certificate: undefined, hostnameMatch: false, chainTrusted: false };
    const event = checkCompletedEvent({ ...envelope, result: checkResult({ tls }) });
    expect(event.data.tls).toEqual({
      protocol: "TLSv1.3",
      cipher: "TLS_AES_256_GCM_SHA384",
      hostnameMatches: false,
      trusted: false,
    });
    expect(schemaErrors(event)).toEqual([]);
  });
});

describe("roundtrip.completed", () => {
  it("carries a returned probe's RTT, return time and informational hops", () => {
    const event = roundTripCompletedEvent({ ...envelope, probe: probeRecord(), thresholds: THRESHOLDS });
    expect(event.data).toEqual({
      probeId: "p_0123456789abcdef",
      outcome: "returned",
      status: "OK",
      reason: "ok",
      sentAt: "2026-06-01T08:00:00.000Z",
      rttMs: 4210,
      returnedAt: "2026-06-01T08:00:04.210Z",
      hops: [
        { from: "scout.example.net", by: "mx1.example.com", with: "ESMTPS", at: "2026-06-01T08:00:01.800Z" },
        { by: "mx1.example.com", with: "LMTP", at: "2026-06-01T08:00:01.900Z" },
      ],
      remoteArrivedAt: "2026-06-01T08:00:01.900Z",
      remoteClockOffsetMs: -205,
    });
    expect(schemaErrors(event)).toEqual([]);
  });

  it("says a skewed remote clock, with no offset", () => {
    const { remoteClockOffsetMs: _offset, ...genuine } = probeRecord();
    const probe = { ...genuine, remoteArrivedAtMs: 1_000, remoteClockSkewed: true };
    const event = roundTripCompletedEvent({ ...envelope, probe, thresholds: THRESHOLDS });
    expect(event.data).toMatchObject({
      remoteArrivedAt: "1970-01-01T00:00:01.000Z",
      remoteClockSkewed: true,
    });
    expect(event.data.remoteClockOffsetMs).toBeUndefined();
    expect(schemaErrors(event)).toEqual([]);
  });

  it("leaves out a hop time no date can hold instead of failing", () => {
    const probe = probeRecord({ hops: [{ by: "mx1.example.com", atMs: 9e18 }] });
    const event = roundTripCompletedEvent({ ...envelope, probe, thresholds: THRESHOLDS });
    expect(event.data.hops).toEqual([{ by: "mx1.example.com" }]);
    expect(schemaErrors(event)).toEqual([]);
  });

  it.each([
    ["lost", probeRecord({ state: "lost", returnedAtMs: undefined, rttMs: undefined, hops: undefined })],
    [
      "bounced",
      probeRecord({
        state: "bounced",
        returnedAtMs: undefined,
        rttMs: undefined,
        hops: undefined,
        bounce: { status: "5.1.1", diagnostic: "smtp; 550 5.1.1 <scout@mx1.example.com>: unknown user" },
      }),
    ],
    [
      "send-failed",
      probeRecord({
        state: "send-failed",
        returnedAtMs: undefined,
        rttMs: undefined,
        hops: undefined,
        error: "connect ECONNREFUSED 192.0.2.1:25",
      }),
    ],
    ["late", probeRecord({ state: "late", rttMs: 400_000, returnedAtMs: T0 + 400_000 })],
  ])("carries a %s probe and validates", (outcome, probe) => {
    const event = roundTripCompletedEvent({ ...envelope, probe, thresholds: THRESHOLDS });
    expect(event.data.outcome).toBe(outcome);
    expect(event.data.status).toBe(outcome === "late" ? "WARNING" : "CRITICAL");
    if (outcome === "bounced") expect(event.data.bounce).toEqual(probe.bounce);
    if (outcome === "send-failed") expect(event.data.error).toBe(probe.error);
    expect(schemaErrors(event)).toEqual([]);
  });

  it("refuses a probe that has no outcome yet", () => {
    const probe = probeRecord({ state: "sent", rttMs: undefined, returnedAtMs: undefined });
    expect(() => roundTripCompletedEvent({ ...envelope, probe, thresholds: THRESHOLDS })).toThrow(
      /still "sent"/,
    );
  });
});

describe("status.changed", () => {
  const transition = {
    targetId: "mx1",
    subject: ENDPOINT,
    from: "OK" as const,
    to: "CRITICAL" as const,
    reason: "timeout-connect",
    previousReason: "ok",
    sinceMs: T0,
    confirmations: 2,
  };

  it("carries the subject, both statuses, the reason and since", () => {
    const event = statusChangedEvent({ customer: "acme", now: NOW, transition });
    expect(event.target).toBe("mx1");
    expect(event.data).toEqual({
      subject: ENDPOINT,
      from: "OK",
      to: "CRITICAL",
      reason: "timeout-connect",
      previousReason: "ok",
      since: "2026-06-01T08:00:00.000Z",
      confirmations: 2,
      recovered: false,
    });
    expect(schemaErrors(event)).toEqual([]);
  });

  it("marks a return to OK as recovered", () => {
    const back = { ...transition, from: "CRITICAL" as const, to: "OK" as const, reason: "ok" };
    const event = statusChangedEvent({ customer: "acme", now: NOW, transition: back });
    expect(event.data.recovered).toBe(true);
    expect(schemaErrors(event)).toEqual([]);
  });
});

describe("certificate.expiring", () => {
  const certificate = tlsFacts(5).certificate;
  if (certificate === undefined) throw new Error("fixture has a certificate");
  const input = { ...envelope, endpoint: ENDPOINT, warningDays: 21, criticalDays: 7 };

  it("carries the certificate, the days left and the threshold", () => {
    const event = certificateExpiringEvent({ ...input, certificate });
    expect(event.data).toEqual({
      endpoint: ENDPOINT,
      subject: "CN=mx1.example.com",
      issuer: "C=US, O=Let's Encrypt, CN=R11",
      notAfter: certificate.notAfter,
      daysLeft: 5,
      expired: false,
      thresholdDays: 21,
      status: "CRITICAL",
      fingerprintSha256: "AA:BB:CC",
    });
    expect(schemaErrors(event)).toEqual([]);
  });

  it("is WARNING above the critical days and says expired below zero", () => {
    const warning = certificateExpiringEvent({ ...input, certificate: { ...certificate, daysLeft: 15 } });
    expect(warning.data).toMatchObject({ status: "WARNING", expired: false });
    const expired = certificateExpiringEvent({
      ...input,
      certificate: { ...certificate, daysLeft: -2, notAfter: new Date(T0 - 2 * DAY_MS).toISOString() },
    });
    expect(expired.data).toMatchObject({ status: "CRITICAL", expired: true, daysLeft: -2 });
    expect(schemaErrors(warning)).toEqual([]);
    expect(schemaErrors(expired)).toEqual([]);
  });
});

describe("webhook.test", () => {
  it("has an empty target and validates", () => {
    const event = webhookTestEvent({ now: NOW, customer: "acme" });
    expect(event).toMatchObject({ type: "webhook.test", target: "", customer: "acme", version: 1 });
    expect(event.data.message).toMatch(/Email Scout/);
    expect(schemaErrors(event)).toEqual([]);
  });
});
