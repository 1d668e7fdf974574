import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../../../core/config/parse-config.ts";
import type { CyclePorts } from "../../../../core/cycle/cycle-ports.ts";
import { runCycle, runSweep } from "../../../../core/cycle/run-cycle.ts";
import { NO_METRICS } from "../../../../core/ports/metrics.ts";
import { newProbeKey } from "../../../../core/wire/probe-key.ts";
import { MemoryStatusStore } from "../../../../local/adapters/memory-status-store.ts";
import { MemoryStore } from "../../../../local/adapters/memory-store.ts";
import { MemoryMailbox } from "../../../support/memory-mailbox.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";

const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);
const DEADLINE_S = 60;

/** The cycle's ports around one fetch-mode target whose mailbox is in memory; sends are held back. */
function setup() {
  let nowMs = T0;
  const clock = { now: () => nowMs };
  const mailbox = new MemoryMailbox(clock);
  const held: Buffer[] = [];
  const store = new MemoryStore();
  const log = new RecordingLogger();
  const config = parseConfigText(
    JSON.stringify({
      dataDir: "/unused",
      probeKeyFile: "/unused",
      inbound: { domain: "s.example.com", returnAddress: "r@s.example.com" },
      roundTrip: { deadlineSeconds: DEADLINE_S, warningSeconds: 10, criticalSeconds: 20 },
      targets: [
        {
          id: "hosted",
          probe: {
            to: "probe@hosted.example.com",
            fetch: {
              url: "imaps://imap.example.com",
              user: "u",
              passwordFile: "/p",
              waitSeconds: 1,
              pollSeconds: 1,
            },
          },
        },
      ],
    }),
    "fetch-sweep",
  );
  const key = { id: "k1", key: newProbeKey() };
  const ports: CyclePorts = {
    config,
    probeKeys: async () => new Map(config.targets.map((target) => [target.id, [key] as const])),
    probes: store,
    statuses: new MemoryStatusStore(),
    events: undefined,
    metrics: NO_METRICS,
    clock,
    log,
    planChecks: async () => [],
    checks: store,
    sender: {
      send: async (message) => {
        held.push(message.raw);
        // The send takes the whole wait: the cycle's look after it is already past its time.
        nowMs += 1_000;
        return { response: "250 ok" };
      },
    },
    mailboxes: { open: async () => mailbox.session() },
    probeFrom: "scout@s.example.com",
  };
  return { ports, store, mailbox, held, advance: (ms: number) => (nowMs += ms), log };
}

describe("fetch mode and the sweep", () => {
  it("looks in the mailbox before declaring an overdue probe lost, also outside a cycle", async () => {
    const t = setup();
    await runCycle(t.ports);
    const [sent] = await t.store.recent("hosted", 0, 1);
    expect(sent).toMatchObject({ state: "sent" });
    t.advance(DEADLINE_S * 1000);
    t.mailbox.put(t.held[0] as Buffer);
    const summary = await runSweep(t.ports);
    expect(summary).toMatchObject({ delivered: 1, lost: 0 });
    expect(await t.store.get(sent?.probeId as string)).toMatchObject({ state: "returned", folder: "inbox" });
    expect(t.mailbox.openSessions).toBe(0);
  });

  it("opens no mailbox when no probe of the target is overdue", async () => {
    const t = setup();
    let opened = 0;
    const open = async () => {
      opened += 1;
      return t.mailbox.session();
    };
    const ports = { ...t.ports, mailboxes: { open } };
    await runSweep(ports);
    expect(opened).toBe(0);
  });

  it("still sweeps to lost when the mailbox cannot be opened, and says why", async () => {
    const t = setup();
    await runCycle(t.ports);
    t.advance(DEADLINE_S * 1000);
    const failing = {
      ...t.ports,
      mailboxes: {
        open: async () => {
          throw new Error("login refused");
        },
      },
    };
    const summary = await runSweep(failing);
    expect(summary.lost).toBe(1);
    expect(summary.errors).toEqual([{ step: "fetch", target: "hosted", error: "login refused" }]);
  });
});
