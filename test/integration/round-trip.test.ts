import { execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../core/config/parse-config.ts";
import type { ProbeRecord } from "../../core/ports/probe-store.ts";
import { formatProbeKeyRing, newProbeKey, signingKey } from "../../core/wire/probe-key.ts";
import { readProbeKeyFile } from "../../core/wire/probe-key-file.ts";
import { createProbeToken } from "../../core/wire/probe-token.ts";
import { installReturn } from "../../local/return-install/return-install.ts";
import { lookupUser } from "../../local/return-install/system-user.ts";
import { consoleLogger } from "../../local/serve/console-logger.ts";
import { LocalMonitor } from "../../local/serve/monitor.ts";
import { type DemoHost, demoHost } from "../support/demo-host.ts";
import { verifyDkim } from "../support/dkim-verify.ts";

/*
 * The whole round trip on one machine, with real parts only: the monitor sends probes
 * through the demo host's Postfix, the built email_return answers from real ~/.forward
 * pipes, Postfix relays the returns (and its bounces) to the monitor's listener on
 * 127.0.0.1:2526 (the demo host routes scout-test.test there), and SQLite records them.
 */
const ROOT = join(import.meta.dirname, "../..");
const INBOUND = "scout-test.test";
const RETURN_TO = `returns@${INBOUND}`;
const DEADLINE_S = 25;

let demo: DemoHost;
let dir: string;
let keyFile: string;
let monitor: LocalMonitor;
let dkimPublicKey: KeyObject;
const lines: string[] = [];
/** The monitor signs its probes (outbound.dkim) as the inbound domain, selector DKIM_SELECTOR. */
const DKIM_SELECTOR = "scout-it";

function forwardOf(user: string): string {
  return join(lookupUser(user).home, ".forward");
}

beforeAll(async () => {
  demo = demoHost();
  execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT });
  dir = mkdtempSync(join(tmpdir(), "scout-rt-"));
  keyFile = join(dir, "probe.key");
  writeFileSync(keyFile, formatProbeKeyRing([{ id: "k1", key: newProbeKey() }]), { mode: 0o600 });
  const dkimKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
  dkimPublicKey = dkimKey.publicKey;
  const dkimKeyFile = join(dir, "dkim.pem");
  writeFileSync(dkimKeyFile, dkimKey.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  const script = join(ROOT, "dist/email_return.cjs");
  for (const user of ["probe", "probe-slow"]) {
    installReturn({ user, returnTo: RETURN_TO, keyFile, script, nodePath: process.execPath, log: true });
  }
  // probe-slow: the pipe sleeps 2 s before email_return runs.
  const slow = readFileSync(forwardOf("probe-slow"), "utf8").replace('"|', '"|/bin/sleep 2 && ');
  writeFileSync(forwardOf("probe-slow"), slow);
  // probe-void: keeps probes in its mailbox and never answers (until the test answers one late).
  writeFileSync(forwardOf("probe-void"), "\\probe-void\n");

  const config = parseConfigText(
    JSON.stringify({
      dataDir: join(dir, "data"),
      probeKeyFile: keyFile,
      inbound: { domain: INBOUND, returnAddress: RETURN_TO, listen: { host: "127.0.0.1", port: 2526 } },
      outbound: {
        from: `monitor@${INBOUND}`,
        relay: { host: demo.host, port: 25, tls: "require-starttls", caFile: demo.caFile },
        dkim: { domain: INBOUND, selector: DKIM_SELECTOR, privateKeyFile: dkimKeyFile },
      },
      roundTrip: { deadlineSeconds: DEADLINE_S, warningSeconds: 10, criticalSeconds: 20 },
      targets: [
        { id: "ok", probe: { to: "probe@scout.test" } },
        { id: "slow", probe: { to: "probe-slow@scout.test" } },
        { id: "gone", probe: { to: "probe-gone@scout.test" } },
        { id: "void", probe: { to: "probe-void@scout.test" } },
        { id: "unknown", probe: { to: "no-such-user@scout.test" } },
      ],
    }),
    "round-trip-test",
  );
  monitor = await LocalMonitor.open(
    config,
    consoleLogger((line) => lines.push(line)),
  );
  await monitor.start({ schedule: false });
  await monitor.runCycle();
  await monitor.waitForOpenProbes();
}, 180_000);

afterAll(async () => {
  await monitor?.stop();
  for (const user of ["probe-slow", "probe-void"]) writeFileSync(forwardOf(user), "");
});

async function probeOf(targetId: string): Promise<ProbeRecord> {
  const [probe] = await monitor.store.recent(targetId, 0, 1);
  if (!probe) throw new Error(`no probe for ${targetId}; log:\n${lines.join("\n")}`);
  return probe;
}

describe("round trip through the real Postfix and email_return", () => {
  it("a probe comes back: returned, with a plausible RTT, hops and the remote clock offset", async () => {
    const probe = await probeOf("ok");
    expect(probe.state, lines.join("\n")).toBe("returned");
    expect(probe.rttMs).toBeGreaterThan(0);
    expect(probe.rttMs).toBeLessThan(DEADLINE_S * 1000);
    expect(probe.remoteArrivedAtMs).toBeGreaterThanOrEqual(probe.sentAtMs);
    // Same machine, same clock: the apparent offset is small.
    expect(Math.abs(probe.remoteClockOffsetMs ?? Number.NaN)).toBeLessThan(5_000);
    expect(probe.hops?.length).toBeGreaterThan(0);
    expect(probe.hops?.some((hop) => hop.by?.includes("mail.scout.test"))).toBe(true);
    // The demo host's verifiers (OpenDKIM and rspamd, Postfix's milters) looked for this run's
    // key under selector scout-it in its DNS, which publishes only its own demo key: dkim fail
    // (OpenDKIM's field is the newest). SPF passes for the envelope's domain, the From domain
    // too, so DMARC passes; rspamd scores it ham. All carried back by email_return.
    expect(probe.verdicts).toEqual({
      authservId: demo.authservId,
      spf: { result: "pass", reason: expect.stringContaining("designates 127.0.0.1"), domain: INBOUND },
      dkim: { result: "fail", reason: "key not found in DNS", domain: INBOUND },
      dmarc: { result: "pass", reason: "policy=reject", domain: INBOUND },
      spam: [
        { filter: "rspamd", verdict: "ham", score: expect.any(Number), threshold: 15, detail: "no action" },
      ],
      ignoredAuthResults: 0,
      problems: [],
    });
  });

  it("a pipe that sleeps 2 s first gives an RTT of at least 2 s, well under the deadline", async () => {
    const probe = await probeOf("slow");
    expect(probe.state, lines.join("\n")).toBe("returned");
    expect(probe.rttMs).toBeGreaterThanOrEqual(2_000);
    expect(probe.rttMs).toBeLessThan(DEADLINE_S * 1000);
  });

  it("a probe to a mailbox that does not exist (found late) ends bounced with Postfix's 5.1.1", async () => {
    const probe = await probeOf("gone");
    expect(probe.state, lines.join("\n")).toBe("bounced");
    expect(probe.bounce?.status).toBe("5.1.1");
    expect(probe.bounce?.diagnostic).toMatch(/unknown user/i);
  });

  it("a recipient refused at RCPT time is send-failed, with the relay's answer", async () => {
    const probe = await probeOf("unknown");
    expect(probe.state).toBe("send-failed");
    expect(probe.error).toMatch(/550/);
  });

  it("a probe the mailbox keeps and never answers ends lost, then late when it is answered after all", async () => {
    const lost = await probeOf("void");
    expect(lost.state).toBe("lost");
    // The probe sits in probe-void's Maildir: answer it now, as email_return would have.
    const user = lookupUser("probe-void");
    const maildir = join(user.home, "Maildir/new");
    const file = readdirSync(maildir)
      .map((name) => join(maildir, name))
      .find((path) => readFileSync(path, "utf8").includes(lost.probeId));
    expect(file).toBeDefined();
    // The monitor's DKIM signature survived the real relay and delivery: a verifier passes it.
    expect(verifyDkim(readFileSync(file as string), dkimPublicKey)).toMatchObject({
      result: "pass",
      domain: INBOUND,
      selector: DKIM_SELECTOR,
    });
    installReturn({
      user: "probe-void",
      returnTo: RETURN_TO,
      keyFile,
      script: join(ROOT, "dist/email_return.cjs"),
      nodePath: process.execPath,
    });
    const config = join(user.home, ".email-scout/return.json");
    const run = spawnSync(
      process.execPath,
      [join(user.home, ".email-scout/email_return.cjs"), "--config", config],
      {
        input: readFileSync(file as string),
        uid: user.uid,
        gid: user.gid,
        env: {
          PATH: "/usr/bin:/bin",
          SENDER: `bounces+${lost.probeId}@${INBOUND}`,
          USER: "probe-void",
          HOME: user.home,
        },
        timeout: 30_000,
      },
    );
    const arrived = monitor.waitForOutcome(
      (o) => o.kind === "late" && o.probe.probeId === lost.probeId,
      60_000,
    );
    expect(run.status).toBe(0);
    await arrived;
    const late = await monitor.store.get(lost.probeId);
    expect(late?.state).toBe("late");
    expect(late?.rttMs).toBeGreaterThan(DEADLINE_S * 1000);
  });

  it("a replayed return changes nothing, and a return signed with another key is rejected and counted", async () => {
    const probe = await probeOf("ok");
    const before = await monitor.store.get(probe.probeId);
    // Replay: the same probe sent to the mailbox again; its return carries the same token.
    const duplicate = monitor.waitForOutcome(
      (o) => o.kind === "duplicate" && o.probeId === probe.probeId,
      60_000,
    );
    const rejected = monitor.waitForOutcome(
      (o) => o.kind === "rejected" && o.reason === "token-bad-signature",
      60_000,
    );
    const token = createProbeToken(
      { probeId: probe.probeId, targetId: "ok", sentAtMs: probe.sentAtMs },
      signingKey(readProbeKeyFile(keyFile)),
    );
    sendRaw("probe@scout.test", `bounces+${probe.probeId}@${INBOUND}`, probeText(token, probe.probeId));
    // Forgery: a valid-looking token made with a different key.
    const forged = createProbeToken(
      { probeId: "forgedforgedforged", targetId: "ok", sentAtMs: Date.now() },
      { id: "k1", key: newProbeKey() },
    );
    sendRaw(RETURN_TO, "attacker@scout.test", returnText(forged));
    await Promise.all([duplicate, rejected]);
    expect(await monitor.store.get(probe.probeId)).toEqual(before);
    const counts = await monitor.store.rejectionCounts(0);
    expect(counts["token-bad-signature"]).toBeGreaterThanOrEqual(1);
  });
});

function probeText(token: string, probeId: string): string {
  return [
    "From: monitor@scout-test.test",
    "To: probe@scout.test",
    `Subject: Email Scout probe ${probeId} (replayed)`,
    `Message-ID: <replay.${probeId}@scout-test.test>`,
    "Auto-Submitted: auto-generated",
    `X-Scout-Probe: ${token}`,
    "",
    "replayed probe",
    "",
  ].join("\n");
}

function returnText(token: string): string {
  return [
    "From: attacker@scout.test",
    `To: ${RETURN_TO}`,
    "Subject: Re: Email Scout probe",
    "Auto-Submitted: auto-replied",
    `X-Scout-Probe: ${token}`,
    `X-Scout-Arrived: ${Date.now()}`,
    "",
    "forged",
    "",
  ].join("\n");
}

/** Submits a message to the demo Postfix with its own sendmail (as a local user would). */
function sendRaw(to: string, envelopeFrom: string, text: string): void {
  execFileSync("/usr/sbin/sendmail", ["-oi", "-f", envelopeFrom, "--", to], { input: text, timeout: 30_000 });
}
