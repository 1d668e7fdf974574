import type { FetchConfig } from "../config/fetch-schema.ts";
import type { JobConfig } from "../ports/job-ports.ts";
import type { MailboxSession } from "../ports/mailbox.ts";
import { awaitProbe, type FetchFinding, type FetchProbesDeps } from "../roundtrip/fetch-probes.ts";
import { sendProbe } from "../roundtrip/send-probe.ts";
import { addEvents, type CycleRun, recordCycleError } from "./cycle-run.ts";

type Target = JobConfig["targets"][number];

/**
 * One round trip in fetch mode: the mailbox is opened first (so IDLE is listening when the probe
 * arrives), every probe already there is taken (earlier cycles' probes: delivered, or late after
 * lost), the probe is sent, and the cycle waits for it up to fetch.waitSeconds. One not seen by
 * then stays "sent": the next cycle's look finds it, and the sweep, which runs after this step,
 * declares it lost only past its deadline. A mailbox that cannot be opened does not stop the
 * probe: it is sent all the same and looked for next cycle.
 */
export async function roundTripByFetch(run: CycleRun, target: Target, key: Buffer): Promise<void> {
  const { ports, summary } = run;
  const fetch = target.probe?.fetch as FetchConfig;
  const session = await openMailbox(run, target.id, fetch);
  try {
    const probe = await sendProbe(
      {
        targetId: target.id,
        to: target.probe?.to as string,
        from: ports.probeFrom,
        inboundDomain: ports.config.inbound.domain,
        deadlineMs: ports.config.roundTrip.deadlineSeconds * 1000,
      },
      { store: ports.probes, sender: ports.sender, key, clock: ports.clock, log: ports.log },
    );
    const failed = probe.state === "send-failed";
    ports.metrics.probeSent(target.id, failed);
    if (failed) {
      summary.sendFailed += 1;
      await addEvents(run, target.id, () => run.batch.addRoundTrip(probe));
    } else summary.probesSent += 1;
    if (session === undefined) return;
    const untilMs = failed
      ? ports.clock.now()
      : Math.min(probe.sentAtMs + fetch.waitSeconds * 1000, probe.deadlineMs);
    const deps = fetchDeps(run, target.id, fetch, key);
    const findings = await awaitProbe(
      session,
      probe.probeId,
      { untilMs, pollMs: fetch.pollSeconds * 1000 },
      deps,
    );
    await report(run, target.id, findings);
  } catch (error) {
    recordCycleError(
      run,
      { step: "probe", target: target.id },
      "cannot complete a fetch-mode round trip",
      error,
    );
  } finally {
    await session?.close().catch(() => {});
  }
}

async function openMailbox(
  run: CycleRun,
  targetId: string,
  fetch: FetchConfig,
): Promise<MailboxSession | undefined> {
  const opener = run.ports.mailboxes;
  try {
    if (opener === undefined) throw new Error("this shell opens no mailboxes");
    return await opener.open(targetId, fetch);
  } catch (error) {
    recordCycleError(
      run,
      { step: "fetch", target: targetId },
      "cannot open the probe mailbox; the probe is sent and looked for next cycle",
      error,
    );
    return undefined;
  }
}

function fetchDeps(run: CycleRun, targetId: string, fetch: FetchConfig, key: Buffer): FetchProbesDeps {
  const { ports } = run;
  return {
    targetId,
    store: ports.probes,
    key,
    clock: ports.clock,
    log: ports.log,
    maxAgeMs: ports.config.roundTrip.maxAgeSeconds * 1000,
    deleteAfterFetch: fetch.deleteAfterFetch,
  };
}

/** Metrics, a log line and the events of each probe found; what was not a probe of ours is only logged. */
async function report(run: CycleRun, targetId: string, findings: readonly FetchFinding[]): Promise<void> {
  const { ports } = run;
  for (const finding of findings) {
    if (finding.kind === "returned" || finding.kind === "late") {
      const { probe } = finding;
      run.summary.delivered += 1;
      ports.metrics.probeCorrelated(finding.kind, probe);
      ports.log.info(`probe ${finding.kind === "returned" ? "delivered" : "late"}`, {
        target: targetId,
        probe: probe.probeId,
        rttMs: probe.rttMs,
        folder: probe.folder,
      });
      await addEvents(run, targetId, () => run.batch.addRoundTrip(probe));
    } else if (finding.kind === "ignored") {
      ports.log.info("mailbox message left alone", {
        target: targetId,
        reason: finding.reason,
        probe: finding.probeId,
      });
    }
  }
}
