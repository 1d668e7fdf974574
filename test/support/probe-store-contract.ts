import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_THRESHOLDS } from "../../core/checks/evaluate.ts";
import type { CheckResult } from "../../core/checks/result.ts";
import { describeAnnouncementCases } from "./outcome-announcements-contract.ts";
import { type ContractOptions, DEADLINE, probe, type Store, T0 } from "./probe-store-fixtures.ts";

export { type ContractOptions, DEADLINE, probe, type Store, T0 } from "./probe-store-fixtures.ts";

export function checkResult(
  endpoint: string,
  startedAtMs: number,
  overrides: Partial<CheckResult> = {},
): CheckResult {
  return {
    endpoint,
    kind: "smtp",
    protocol: "smtp",
    host: "mx1.example.com",
    port: 25,
    status: "OK",
    reason: "ok",
    message: "every phase answered as expected",
    problems: [],
    startedAt: new Date(startedAtMs).toISOString(),
    responseMs: 42,
    totalMs: 50,
    timings: { connect: 3, greeting: 10 },
    login: "not-asked",
    thresholds: DEFAULT_THRESHOLDS,
    ...overrides,
  };
}

export function describeProbeStoreContract<S extends Store>(
  name: string,
  makeStore: () => Promise<S & { close?(): void }>,
  options: ContractOptions<S> = {},
): void {
  describe(`${name} (store contract)`, () => {
    let store: S & { close?(): void };
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(() => store.close?.());

    describe("probes", () => {
      it("records a sent probe and reads it back", async () => {
        await store.recordSent(probe("p1"));
        expect(await store.get("p1")).toEqual({ ...probe("p1"), state: "sent", updatedAtMs: T0 });
      });

      it("refuses a second probe with the same id and keeps the first", async () => {
        await store.recordSent(probe("p1"));
        await expect(store.recordSent({ ...probe("p1"), targetId: "other" })).rejects.toThrow(/p1/);
        await expect(store.recordSendFailed(probe("p1"), "boom", T0)).rejects.toThrow(/p1/);
        expect(await store.get("p1")).toMatchObject({ targetId: "mx1", state: "sent" });
      });

      it("returns undefined for an unknown probe, read or transition", async () => {
        expect(await store.get("nope")).toBeUndefined();
        expect(await store.transition("nope", ["sent"], "returned", {}, T0)).toBeUndefined();
      });

      it("moves sent -> returned with its facts; a duplicate delivery records nothing", async () => {
        await store.recordSent(probe("p1"));
        const outcome = {
          returnedAtMs: T0 + 4_000,
          rttMs: 4_000,
          remoteArrivedAtMs: T0 + 1_500,
          remoteClockOffsetMs: -500.5,
          hops: [{ from: "relay.example.net", by: "mx1.example.com", with: "ESMTPS", atMs: T0 + 1_400 }, {}],
          verdicts: {
            authservId: "mx1.example.com",
            dmarc: { result: "fail", reason: "p=reject", domain: "example.net" },
            spf: { result: "pass", domain: "example.net" },
            spam: [{ filter: "spamassassin" as const, verdict: "spam" as const, score: 7.1, threshold: 5 }],
            ignoredAuthResults: 1,
            problems: [],
          },
        };
        const returned = await store.transition("p1", ["sent"], "returned", outcome, T0 + 4_000);
        expect(returned).toEqual({ ...probe("p1"), state: "returned", updatedAtMs: T0 + 4_000, ...outcome });
        expect(await store.get("p1")).toEqual(returned);

        const again = await store.transition(
          "p1",
          ["sent"],
          "returned",
          { ...outcome, rttMs: 9 },
          T0 + 5_000,
        );
        expect(again).toBeUndefined();
        expect(await store.get("p1")).toEqual(returned);
      });

      it("keeps a remote clock's skew flag, and no offset beside it", async () => {
        await store.recordSent(probe("p1"));
        const outcome = {
          returnedAtMs: T0 + 4_000,
          rttMs: 4_000,
          remoteArrivedAtMs: 1,
          remoteClockSkewed: true,
        };
        const returned = await store.transition("p1", ["sent"], "returned", outcome, T0 + 4_000);
        expect(returned).toEqual({ ...probe("p1"), state: "returned", updatedAtMs: T0 + 4_000, ...outcome });
        expect(await store.get("p1")).toEqual(returned);
      });

      it("keeps the folder a fetched probe was found in, through lost -> late", async () => {
        await store.recordSent(probe("p1"));
        await store.transition("p1", ["sent"], "lost", {}, T0 + DEADLINE + 1);
        const outcome = { returnedAtMs: T0 + DEADLINE + 9, rttMs: DEADLINE + 9, folder: "junk" as const };
        const late = await store.transition("p1", ["lost"], "late", outcome, T0 + DEADLINE + 9);
        expect(late).toEqual({ ...probe("p1"), state: "late", updatedAtMs: T0 + DEADLINE + 9, ...outcome });
        expect(await store.get("p1")).toEqual(late);
      });

      it("changes nothing when the probe is in another state", async () => {
        await store.recordSent(probe("p1"));
        expect(await store.transition("p1", ["lost"], "late", { rttMs: 1 }, T0 + 1)).toBeUndefined();
        expect(await store.transition("p1", [], "returned", {}, T0 + 1)).toBeUndefined();
        expect(await store.get("p1")).toEqual({ ...probe("p1"), state: "sent", updatedAtMs: T0 });
      });

      it("moves lost -> late, keeping what the outcome leaves out", async () => {
        await store.recordSent(probe("p1"));
        await store.transition("p1", ["sent"], "lost", { error: "deadline passed" }, T0 + DEADLINE + 1);
        const late = await store.transition(
          "p1",
          ["lost"],
          "late",
          { returnedAtMs: T0 + DEADLINE + 60_000, rttMs: DEADLINE + 60_000 },
          T0 + DEADLINE + 60_000,
        );
        expect(late).toMatchObject({
          state: "late",
          rttMs: DEADLINE + 60_000,
          error: "deadline passed",
          updatedAtMs: T0 + DEADLINE + 60_000,
        });
      });

      it("records a bounce after a loss with its diagnostic", async () => {
        await store.recordSent(probe("p1"));
        await store.transition("p1", ["sent"], "lost", {}, T0 + DEADLINE + 1);
        const bounce = { status: "5.1.1", diagnostic: "smtp; 550 5.1.1 <x@y>: Recipient address rejected" };
        const bounced = await store.transition(
          "p1",
          ["sent", "lost"],
          "bounced",
          { bounce },
          T0 + DEADLINE + 2,
        );
        expect(bounced).toMatchObject({ state: "bounced", bounce });
        expect((await store.get("p1"))?.bounce).toEqual(bounce);
      });

      it("records a probe that could not be sent", async () => {
        await store.recordSendFailed(probe("p1"), "connect ECONNREFUSED 192.0.2.1:25", T0 + 30);
        expect(await store.get("p1")).toEqual({
          ...probe("p1"),
          state: "send-failed",
          updatedAtMs: T0 + 30,
          error: "connect ECONNREFUSED 192.0.2.1:25",
        });
        expect(await store.transition("p1", ["sent"], "returned", {}, T0 + 40)).toBeUndefined();
        expect(await store.overdue(T0 + 2 * DEADLINE, 10)).toEqual([]);
      });

      it("lists overdue probes: only sent, deadline strictly past, oldest deadline first, limited", async () => {
        const now = T0 + 100_000;
        await store.recordSent({ ...probe("late-2"), deadlineMs: now - 10 });
        await store.recordSent({ ...probe("late-1"), deadlineMs: now - 30 });
        await store.recordSent({ ...probe("late-3"), deadlineMs: now - 1 });
        await store.recordSent({ ...probe("due-now"), deadlineMs: now });
        await store.recordSent({ ...probe("future"), deadlineMs: now + 1 });
        await store.recordSent({ ...probe("answered"), deadlineMs: now - 50 });
        await store.transition("answered", ["sent"], "returned", {}, now - 60);
        await store.recordSendFailed({ ...probe("failed"), deadlineMs: now - 50 }, "x", T0);

        const ids = async (limit: number) => (await store.overdue(now, limit)).map((p) => p.probeId);
        expect(await ids(10)).toEqual(["late-1", "late-2", "late-3"]);
        expect(await ids(2)).toEqual(["late-1", "late-2"]);
      });

      it("lists a target's recent probes newest first, from `since` on, limited", async () => {
        await store.recordSent(probe("a1", T0 + 100));
        await store.recordSent(probe("a3", T0 + 300));
        await store.recordSendFailed(probe("a2", T0 + 200), "x", T0 + 200);
        await store.recordSent(probe("b1", T0 + 250, "mx2"));

        const ids = async (since: number, limit: number) =>
          (await store.recent("mx1", since, limit)).map((p) => p.probeId);
        expect(await ids(T0, 10)).toEqual(["a3", "a2", "a1"]);
        expect(await ids(T0 + 200, 10)).toEqual(["a3", "a2"]);
        expect(await ids(T0, 1)).toEqual(["a3"]);
        expect((await store.recent("mx2", T0, 10)).map((p) => p.probeId)).toEqual(["b1"]);
        expect(await store.recent("mx3", T0, 10)).toEqual([]);
      });

      it("lets exactly one of 20 concurrent identical transitions win", async () => {
        await store.recordSent(probe("p1"));
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.transition("p1", ["sent"], "returned", { rttMs: 1_000 + i }, T0 + 1_000 + i),
          ),
        );
        const winners = results.filter((r) => r !== undefined);
        expect(winners).toHaveLength(1);
        expect(await store.get("p1")).toEqual(winners[0]);
      });
    });

    describe("outcome announcements", () => describeAnnouncementCases(() => store, options));

    describe("rejections", () => {
      it("counts rejections by reason from `since` on", async () => {
        await store.countRejection("token-bad-signature", "old", T0 - 1);
        await store.countRejection("token-bad-signature", "forged", T0);
        await store.countRejection("token-bad-signature", "forged again", T0 + 5);
        await store.countRejection("unknown-probe", "x".repeat(10_000), T0 + 6);
        expect(await store.rejectionCounts(T0)).toEqual({ "token-bad-signature": 2, "unknown-probe": 1 });
        expect(await store.rejectionCounts(T0 + 6)).toEqual({ "unknown-probe": 1 });
        expect(await store.rejectionCounts(T0 + 7)).toEqual({});
      });
    });

    describe("check results", () => {
      it("gives the newest result of every endpoint of every target, whatever the saving order", async () => {
        await store.saveCheckResult(
          "mx1",
          checkResult("smtp", T0 + 2_000, { status: "WARNING", reason: "slow" }),
        );
        await store.saveCheckResult("mx1", checkResult("smtp", T0 + 1_000));
        await store.saveCheckResult("mx1", checkResult("imaps", T0 + 500));
        await store.saveCheckResult(
          "mx2",
          checkResult("smtp", T0 + 3_000, { status: "CRITICAL", reason: "refused" }),
        );

        expect(await store.latestCheckResults()).toEqual([
          { targetId: "mx1", result: checkResult("imaps", T0 + 500) },
          { targetId: "mx1", result: checkResult("smtp", T0 + 2_000, { status: "WARNING", reason: "slow" }) },
          {
            targetId: "mx2",
            result: checkResult("smtp", T0 + 3_000, { status: "CRITICAL", reason: "refused" }),
          },
        ]);
      });

      it("gives the newest result of one target's endpoints under a prefix, and no others", async () => {
        await store.saveCheckResult("mx1", checkResult("posture:mx", T0 + 1_000));
        await store.saveCheckResult("mx1", checkResult("posture:mx", T0 + 3_000, { status: "WARNING" }));
        await store.saveCheckResult("mx1", checkResult("posture:spf", T0 + 2_000));
        await store.saveCheckResult("mx1", checkResult("posture;after", T0 + 2_000));
        await store.saveCheckResult("mx1", checkResult("smtp", T0 + 2_000));
        await store.saveCheckResult("mx10", checkResult("posture:mx", T0 + 4_000));
        await store.saveCheckResult("mx2", checkResult("posture:mx", T0 + 4_000));

        const latest = await store.latestCheckResultsOf("mx1", "posture:");
        expect(latest.map((r) => [r.endpoint, Date.parse(r.startedAt) - T0]).sort()).toEqual([
          ["posture:mx", 3_000],
          ["posture:spf", 2_000],
        ]);
        expect(await store.latestCheckResultsOf("mx3", "posture:")).toEqual([]);
      });

      it("gives an endpoint's history oldest first, from `since` on, the newest `limit` of it", async () => {
        for (const offset of [3, 1, 4, 2, 0]) {
          await store.saveCheckResult("mx1", checkResult("smtp", T0 + offset * 1_000));
        }
        await store.saveCheckResult("mx1", checkResult("imaps", T0 + 2_500));
        await store.saveCheckResult("mx2", checkResult("smtp", T0 + 2_500));

        const times = async (since: number, limit: number) =>
          (await store.checkHistory("mx1", "smtp", since, limit)).map((r) => Date.parse(r.startedAt) - T0);
        expect(await times(T0, 100)).toEqual([0, 1_000, 2_000, 3_000, 4_000]);
        expect(await times(T0 + 1_000, 100)).toEqual([1_000, 2_000, 3_000, 4_000]);
        expect(await times(T0, 2)).toEqual([3_000, 4_000]);
        expect(await store.checkHistory("mx1", "pop3s", T0, 100)).toEqual([]);
      });

      it("stores a batch as saveCheckResult stores each entry, reporting every slot stored", async () => {
        await store.saveCheckResult("mx1", checkResult("smtp", T0 + 5_000));
        const entries = [
          { targetId: "mx1", result: checkResult("smtp", T0 + 1_000) },
          { targetId: "mx1", result: checkResult("imaps", T0 + 2_000) },
          {
            targetId: "mx1",
            result: checkResult("imaps", T0 + 1_000, { status: "WARNING", reason: "slow" }),
          },
          { targetId: "mx2", result: checkResult("smtp", T0 + 3_000) },
        ];
        expect(await store.saveCheckResults(entries, { concurrency: 2 })).toEqual([
          undefined,
          undefined,
          undefined,
          undefined,
        ]);
        expect(await store.saveCheckResults([], { concurrency: 2 })).toEqual([]);
        // The older batch entry never rolls the latest back, nor does the older of two in one batch.
        expect(await store.latestCheckResults()).toEqual([
          { targetId: "mx1", result: checkResult("imaps", T0 + 2_000) },
          { targetId: "mx1", result: checkResult("smtp", T0 + 5_000) },
          { targetId: "mx2", result: checkResult("smtp", T0 + 3_000) },
        ]);
        const times = async (endpoint: string) =>
          (await store.checkHistory("mx1", endpoint, T0, 10)).map((r) => Date.parse(r.startedAt) - T0);
        expect(await times("smtp")).toEqual([1_000, 5_000]);
        expect(await times("imaps")).toEqual([1_000, 2_000]);
      });

      it("may write a batch's latest results unconditionally while the caller says none is newer", async () => {
        const entries = [
          { targetId: "mx1", result: checkResult("smtp", T0 + 2_000) },
          { targetId: "mx1", result: checkResult("smtp", T0 + 1_000, { status: "WARNING", reason: "slow" }) },
        ];
        const errors = await store.saveCheckResults(entries, {
          concurrency: 1,
          latestUnconditionally: () => true,
        });
        expect(errors).toEqual([undefined, undefined]);
        expect(await store.latestCheckResults()).toEqual([
          { targetId: "mx1", result: checkResult("smtp", T0 + 2_000) },
        ]);
        expect(await store.checkHistory("mx1", "smtp", T0, 10)).toHaveLength(2);
      });

      it("reports an entry it cannot store in that entry's slot, and stores the others", async () => {
        const entries = [
          { targetId: "mx1", result: checkResult("smtp", T0) },
          { targetId: "mx1", result: { ...checkResult("imaps", T0), startedAt: "not a time" } },
          { targetId: "mx2", result: checkResult("smtp", T0 + 1) },
        ];
        const errors = await store.saveCheckResults(entries, { concurrency: 2 });
        expect(errors).toEqual([undefined, expect.any(Error), undefined]);
        expect(errors[1]?.message).toBe("check result of imaps has no valid startedAt");
        expect((await store.latestCheckResults()).map((l) => [l.targetId, l.result.endpoint])).toEqual([
          ["mx1", "smtp"],
          ["mx2", "smtp"],
        ]);
      });

      it("keeps the whole result", async () => {
        const full = checkResult("submission", T0, {
          address: "192.0.2.1",
          capabilities: ["PIPELINING", "STARTTLS"],
          startTls: "used",
          quit: "ok",
        });
        await store.saveCheckResult("mx1", full);
        expect(await store.checkHistory("mx1", "submission", 0, 10)).toEqual([full]);
      });
    });
  });
}
