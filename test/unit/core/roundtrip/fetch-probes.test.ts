import { describe, expect, it } from "vitest";
import type { MailboxSession } from "../../../../core/ports/mailbox.ts";
import {
  awaitProbe,
  type FetchProbesDeps,
  takeDeliveredProbes,
} from "../../../../core/roundtrip/fetch-probes.ts";
import { sendProbe } from "../../../../core/roundtrip/send-probe.ts";
import { newProbeKey, type ProbeKey } from "../../../../core/wire/probe-key.ts";
import { createProbeToken } from "../../../../core/wire/probe-token.ts";
import { MemoryStore } from "../../../../local/adapters/memory-store.ts";
import { MemoryMailbox } from "../../../support/memory-mailbox.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";

const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);
const TARGET = "m365";
const DEADLINE_MS = 300_000;

function setup(options: { deleteAfterFetch?: boolean } = {}) {
  let nowMs = T0;
  const clock = { now: () => nowMs };
  const store = new MemoryStore();
  const key: ProbeKey = { id: "k1", key: newProbeKey() };
  const mailbox = new MemoryMailbox(clock);
  const log = new RecordingLogger();
  const deps: FetchProbesDeps = {
    targetId: TARGET,
    store,
    rings: new Map([
      [TARGET, [key] as const],
      ["other-target", [key] as const],
    ]),
    clock,
    log,
    maxAgeMs: 86_400_000,
    deleteAfterFetch: options.deleteAfterFetch ?? true,
    trustedAuthservIds: ["mx.example.com"],
  };
  /** Sends a signed probe of `targetId` and delivers it into `folder` `afterMs` later. */
  const send = async (folder: "inbox" | "junk" = "inbox", targetId = TARGET) => {
    const raws: Buffer[] = [];
    const probe = await sendProbe(
      {
        targetId,
        to: "probe@example.com",
        from: "m@s.test",
        inboundDomain: "s.test",
        deadlineMs: DEADLINE_MS,
      },
      {
        store,
        sender: {
          send: async (message) => {
            raws.push(message.raw);
            return { response: "250 ok" };
          },
        },
        key,
        clock,
        log,
      },
    );
    return { probe, deliver: () => mailbox.put(raws[0] as Buffer, folder) };
  };
  return { clock, advance: (ms: number) => (nowMs += ms), store, key, mailbox, deps, send, log };
}

function message(token: string, autoSubmitted = "auto-generated"): string {
  return `From: a@b.example\r\nAuto-Submitted: ${autoSubmitted}\r\nX-Scout-Probe: ${token}\r\n\r\nbody\r\n`;
}

describe("takeDeliveredProbes", () => {
  it("records a probe found in the inbox as returned, timed at its sighting, and deletes it", async () => {
    const t = setup();
    const { probe, deliver } = await t.send();
    t.advance(1_234);
    deliver();
    const session = t.mailbox.session();
    const [finding, ...rest] = await takeDeliveredProbes(session, t.deps);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ kind: "returned", probe: { probeId: probe.probeId, state: "returned" } });
    const stored = await t.store.get(probe.probeId);
    expect(stored).toMatchObject({
      state: "returned",
      rttMs: 1_234,
      returnedAtMs: T0 + 1_234,
      folder: "inbox",
    });
    // The header block travels with the finding, for the receiver's verdicts.
    expect(
      finding?.kind === "returned" && finding.headerLines.some((line) => line.startsWith("X-Scout-Probe:")),
    ).toBe(true);
    expect(t.mailbox.messages).toEqual([]);
  });

  it("records the junk folder", async () => {
    const t = setup();
    const { probe, deliver } = await t.send("junk");
    deliver();
    await takeDeliveredProbes(t.mailbox.session(), t.deps);
    expect(await t.store.get(probe.probeId)).toMatchObject({
      state: "returned",
      folder: "junk",
      // The folder is also a verdict: landing in junk is judged like a spam filter's word.
      verdicts: { folder: { junk: true }, spam: [] },
    });
  });

  it("records a probe found after the sweep declared it lost as late", async () => {
    const t = setup();
    const { probe, deliver } = await t.send();
    t.advance(DEADLINE_MS + 1);
    await t.store.transition(probe.probeId, ["sent"], "lost", {}, t.clock.now());
    t.advance(10_000);
    deliver();
    const [finding] = await takeDeliveredProbes(t.mailbox.session(), t.deps);
    expect(finding?.kind).toBe("late");
    expect(await t.store.get(probe.probeId)).toMatchObject({ state: "late", rttMs: DEADLINE_MS + 10_001 });
  });

  it("kept in the mailbox (deleteAfterFetch false), a probe found again is a duplicate and records nothing", async () => {
    const t = setup({ deleteAfterFetch: false });
    const { probe, deliver } = await t.send();
    deliver();
    const session = t.mailbox.session();
    await takeDeliveredProbes(session, t.deps);
    const first = await t.store.get(probe.probeId);
    t.advance(60_000);
    expect(await takeDeliveredProbes(session, t.deps)).toEqual([
      { kind: "duplicate", probeId: probe.probeId },
    ]);
    expect(await t.store.get(probe.probeId)).toEqual(first);
    expect(t.mailbox.deleted).toEqual([]);
  });

  it("never deletes what is not a validly signed probe of this target", async () => {
    const t = setup();
    const other = await t.send("inbox", "other-target");
    other.deliver();
    const ours = await t.send();
    // email_return's reply carries the probe's own token, but it is not the probe.
    const replyToken = createProbeToken(
      { probeId: ours.probe.probeId, targetId: TARGET, sentAtMs: T0 },
      t.key,
    );
    t.mailbox.put(message(replyToken, "auto-replied"));
    const forged = createProbeToken(
      { probeId: "forgedforgedforged", targetId: TARGET, sentAtMs: T0 },
      { id: "k1", key: newProbeKey() },
    );
    t.mailbox.put(message(forged));
    t.mailbox.put(message("not-a-token"));
    const findings = await takeDeliveredProbes(t.mailbox.session(), t.deps);
    expect(findings.map((f) => (f.kind === "ignored" ? f.reason : f.kind))).toEqual([
      "a probe of target other-target",
      "not a probe (Auto-Submitted)",
      "token bad-signature",
      "token malformed",
    ]);
    expect(t.mailbox.deleted).toEqual([]);
    expect(t.mailbox.messages).toHaveLength(4);
    expect(await t.store.get(ours.probe.probeId)).toMatchObject({ state: "sent" });
  });

  it("deletes its own signed probe the store no longer knows, without recording anything", async () => {
    const t = setup();
    const token = createProbeToken({ probeId: "prunedprunedpruned", targetId: TARGET, sentAtMs: T0 }, t.key);
    const id = t.mailbox.put(message(token));
    const findings = await takeDeliveredProbes(t.mailbox.session(), t.deps);
    expect(findings).toEqual([
      { kind: "ignored", reason: "no such probe", probeId: "prunedprunedpruned", message: `INBOX/${id}` },
    ]);
    expect(t.mailbox.deleted).toEqual([id]);
  });
});

describe("awaitProbe", () => {
  it("waits for the probe, woken by new mail, and takes what else it finds on the way", async () => {
    const t = setup();
    const earlier = await t.send();
    earlier.deliver();
    const { probe, deliver } = await t.send();
    const session = t.mailbox.session();
    let waits = 0;
    const watched: MailboxSession = {
      ...session,
      probeMessages: () => session.probeMessages(),
      delete: (m) => session.delete(m),
      waitForNews: (untilMs) => {
        waits += 1;
        const news = session.waitForNews(untilMs);
        // The probe arrives while the session waits, as IDLE would report it.
        t.advance(700);
        deliver();
        return news;
      },
    };
    const findings = await awaitProbe(
      watched,
      probe.probeId,
      { untilMs: T0 + 600_000, pollMs: 600_000 },
      t.deps,
    );
    expect(waits).toBe(1);
    expect(findings.map((f) => (f.kind === "returned" ? f.probe.probeId : f.kind))).toEqual([
      earlier.probe.probeId,
      probe.probeId,
    ]);
    expect(await t.store.get(probe.probeId)).toMatchObject({ state: "returned", rttMs: 700 });
  });

  it("gives up at its time, leaving the probe sent for the next look, and reports mail left alone once", async () => {
    const t = setup();
    t.mailbox.put(message("not-a-token"));
    const { probe } = await t.send();
    const session = t.mailbox.session();
    const pending = awaitProbe(session, probe.probeId, { untilMs: T0 + 150, pollMs: 50 }, t.deps);
    // Real timers: three or four looks 50 ms apart; the clock here stands still, so move it on each look.
    const looks = setInterval(() => t.advance(50), 10);
    const findings = await pending.finally(() => clearInterval(looks));
    expect(findings.filter((f) => f.kind === "ignored")).toHaveLength(1);
    expect(await t.store.get(probe.probeId)).toMatchObject({ state: "sent" });
  });
});
