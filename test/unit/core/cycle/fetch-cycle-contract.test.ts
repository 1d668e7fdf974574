import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ScoutEvent } from "../../../../core/events/event.ts";
import { roundTripEventId } from "../../../../core/events/roundtrip-completed.ts";
import type { ProbeRecord } from "../../../../core/ports/probe-store.ts";
import { Pop3TestServer } from "../../../support/pop3-server.ts";
import { probeIdOf } from "../../../support/shell-mail.ts";
import { awsRuntime } from "../../../support/shell-runtime-aws.ts";
import { localRuntime } from "../../../support/shell-runtime-local.ts";
import {
  DEADLINE_SECONDS,
  FETCH_MAILBOX,
  FETCH_TARGET,
  FETCH_USER,
  FETCH_WAIT_SECONDS,
  type SentProbe,
  type ShellOptions,
  type ShellRuntime,
} from "../../../support/shell-runtimes.ts";

/*
 * Fetch mode in the scheduled cycle, one contract for both shells: FETCH_TARGET's probe is
 * delivered into a POP3 mailbox on port 0, which each shell reads with its own credentials
 * (a password file locally, a Secrets Manager secret on AWS). The shells' clock stands still,
 * so each POP3 login moves it on by the wait: a cycle's wait ends at its second look, one
 * poll (1 s) after the send, whatever the mailbox holds.
 */

const PASSWORD = "hosted-mailbox-password";
const WAIT_MS = FETCH_WAIT_SECONDS * 1000;

describe.each([
  { name: "local", start: localRuntime },
  { name: "aws", start: awsRuntime },
])("fetch mode in the cycle on $name", ({ start }) => {
  let shell: ShellRuntime;
  let mailbox: Pop3TestServer;
  /** When on, each probe to the fetch mailbox lands there as it is sent; else it is held back. */
  let delivering = true;
  const heldBack: SentProbe[] = [];

  beforeEach(async () => {
    delivering = true;
    heldBack.length = 0;
    mailbox = await Pop3TestServer.start({
      user: FETCH_USER,
      password: PASSWORD,
      onLogin: () => shell.clock.advance(WAIT_MS),
    });
    const options: ShellOptions = {
      fetchMailbox: { url: mailbox.url, password: PASSWORD },
      onProbeSent: (probe) => {
        if (!probe.envelope.to.includes(FETCH_MAILBOX)) return;
        if (delivering) mailbox.deliver(probe.raw);
        else heldBack.push(probe);
      },
    };
    shell = await start(options);
  });
  afterEach(async () => {
    await shell?.close();
    await mailbox?.close();
  });

  const completedOf = (probeId: string) =>
    shell
      .queuedEvents()
      .filter((event: ScoutEvent) => event.type === "roundtrip.completed" && event.data.probeId === probeId);

  it("finds the probe in the mailbox, records it delivered with its folder, announces it, and deletes it", async () => {
    await shell.runCycle();
    const [probe] = await shell.probes(FETCH_TARGET);
    expect(probe).toMatchObject({ state: "returned", folder: "inbox", rttMs: WAIT_MS });
    const completed = completedOf((probe as ProbeRecord).probeId);
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      id: roundTripEventId(probe as ProbeRecord),
      target: FETCH_TARGET,
      data: { outcome: "returned", rttMs: WAIT_MS },
    });
    expect(mailbox.maildrop).toEqual([]);
    expect(mailbox.commands.filter((command) => command.startsWith("PASS "))).toEqual([
      `PASS ${PASSWORD}`,
      `PASS ${PASSWORD}`,
    ]);
  });

  it("a probe not there within the wait stays sent; the next cycle finds it before the sweep", async () => {
    delivering = false;
    await shell.runCycle();
    const [first] = await shell.probes(FETCH_TARGET);
    expect(first).toMatchObject({ state: "sent" });
    for (const probe of heldBack.splice(0)) mailbox.deliver(probe.raw);
    await shell.runCycle();
    expect(await shell.stores.probes.get((first as ProbeRecord).probeId)).toMatchObject({
      state: "returned",
      folder: "inbox",
    });
  });

  it("a probe found after the sweep declared it lost is late", async () => {
    delivering = false;
    await shell.runCycle();
    const [sent] = heldBack.splice(0);
    const probeId = probeIdOf(sent as SentProbe);
    shell.clock.advance(DEADLINE_SECONDS * 1000);
    await shell.runCycle();
    expect(await shell.stores.probes.get(probeId)).toMatchObject({ state: "lost" });
    mailbox.deliver((sent as SentProbe).raw);
    await shell.runCycle();
    const late = await shell.stores.probes.get(probeId);
    expect(late).toMatchObject({ state: "late", folder: "inbox" });
    expect(completedOf(probeId).map((event) => event.data.outcome)).toEqual(["lost", "late"]);
  });
});
