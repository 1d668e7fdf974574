import { parseArgs } from "node:util";
import { EXIT_CODES } from "../../core/checks/reasons.ts";
import { roundTripStatus } from "../../core/events/roundtrip-status.ts";
import type { ProbeRecord } from "../../core/ports/probe-store.ts";
import { receiverSpoke } from "../../core/verdicts/receiver-verdicts.ts";
import { verdictText } from "../../core/verdicts/verdict-text.ts";
import { readProbeKeyFile } from "../../core/wire/probe-key-file.ts";
import { SmtpSender } from "../adapters/smtp-sender.ts";
import { consoleLogger } from "../serve/console-logger.ts";
import { type OneFetchRoundTripResult, oneFetchRoundTrip } from "../serve/one-fetch-round-trip.ts";
import { type OneRoundTripResult, oneRoundTrip } from "../serve/one-round-trip.ts";
import { type CommandIo, nonEmptyPath, UsageError } from "./io.ts";
import { preflightListeners } from "./listen-preflight.ts";
import { mailboxFromOptions, refuseListenerOptions } from "./probe-fetch-mode.ts";

export const PROBE_HELP = `Usage: email-scout probe --to ADDR --return-address ADDR --key-file FILE [options]
       email-scout probe --to ADDR --from ADDR --key-file FILE (--imap URL | --pop3 URL)
                         --user NAME (--password-file FILE | --password-env VAR) [options]

One round trip as a Nagios plugin, with no monitor running: sends one signed probe to ADDR,
receives its return (or bounce) on a short-lived SMTP listener, and prints
  ROUNDTRIP OK - 0.214 s | rtt=0.214s;W;C;0
With --imap or --pop3 (fetch mode) no return is needed: the probe is found in ADDR's mailbox
(IMAP IDLE announces it; POP3 and the junk folder are looked at every 2 s), and deleted there:
  ROUNDTRIP OK - 0.214 s, landed in INBOX, receiver: spf pass, dkim pass | rtt=0.214s;W;C;0 junk=0;;;0;1
Exit 0 OK, 1 WARNING (slow, came back late, landed in the junk folder or judged spam, DMARC
fail), 2 CRITICAL (lost, bounced, a forged or invalid return, or the probe could not be
sent), 3 UNKNOWN (bad options, the mailbox cannot be opened).

  --to ADDR               the probe mailbox (it runs email_return from its ~/.forward)
  --return-address ADDR   where email_return replies; its domain must route to --listen
  --key-file FILE         the probe key ring of the target (the one its email_return holds); its first key signs
  --relay HOST:PORT       send through this relay (default: the MX of --to's domain)
  --relay-tls MODE        starttls (default: STARTTLS when offered, certificate verified),
                          opportunistic (STARTTLS when offered, not verified),
                          require-starttls (STARTTLS and a verified certificate), implicit, none
  --ca-file FILE          CAs to trust for the relay's certificate
  --listen HOST:PORT      where returns arrive (default 127.0.0.1:2525)
  --from ADDR             From: of the probe (default: the return address)
  --timeout S             wait this long for the return, then call it lost (default 120)
  -w, --warning S / -c, --critical S   RTT thresholds (defaults 30 / 60)

Fetch mode (instead of --return-address and --listen):
  --imap URL | --pop3 URL the probe mailbox: imap:// (STARTTLS), imaps://, pop3:// (STLS), pop3s://
  --user NAME             its login
  --password-file FILE    read the password from FILE (first line; not readable by group or others)
  --password-env VAR      read the password from environment variable VAR
  --from ADDR             required: From: of the probe; bounces go to its domain, which this
                          command does not see (a bounced probe shows as lost)
  --ca-file FILE          also trusted for the mailbox server's certificate
  --junk-folder NAME      IMAP: the junk folder (default: the one the server marks \\Junk)
  --keep                  leave the probe in the mailbox (default: delete it once found)
`;

const OPTIONS = {
  to: { type: "string" },
  "return-address": { type: "string" },
  "key-file": { type: "string" },
  relay: { type: "string" },
  "relay-tls": { type: "string" },
  "ca-file": { type: "string" },
  listen: { type: "string" },
  from: { type: "string" },
  timeout: { type: "string" },
  warning: { type: "string", short: "w" },
  critical: { type: "string", short: "c" },
  imap: { type: "string" },
  pop3: { type: "string" },
  user: { type: "string" },
  "password-file": { type: "string" },
  "password-env": { type: "string" },
  "junk-folder": { type: "string" },
  keep: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * How often the mailbox is looked at again. POP3 has no IDLE: every 2 s. IMAP's IDLE announces
 * INBOX deliveries at once, so its looks are for the junk folder only (a slower look there
 * keeps an IDLE-found probe clearly apart from a poll-found one).
 */
const FETCH_POLL_MS = { imap: 10_000, pop3: 2_000 } as const;

export async function probeCommand(args: string[], io: CommandIo): Promise<number> {
  try {
    const { values } = parseArgs({ args, options: OPTIONS, strict: true });
    if (values.help) {
      io.stdout(PROBE_HELP);
      return 0;
    }
    const fetchMode = values.imap !== undefined || values.pop3 !== undefined;
    if (fetchMode) refuseListenerOptions(values);
    const required = fetchMode
      ? (["to", "from", "key-file"] as const)
      : (["to", "return-address", "key-file"] as const);
    const missing = required.filter((name) => !values[name]);
    if (missing.length)
      throw new UsageError(
        `missing ${missing.map((m) => `--${m}`).join(", ")}; see email-scout probe --help`,
      );
    const warningMs = seconds(values.warning ?? "30", "--warning");
    const criticalMs = seconds(values.critical ?? "60", "--critical");
    if (warningMs > criticalMs) throw new UsageError("--warning must not exceed --critical");
    const tls = values["relay-tls"] ?? "starttls";
    if (!["starttls", "opportunistic", "require-starttls", "implicit", "none"].includes(tls)) {
      throw new UsageError(
        `--relay-tls must be starttls, opportunistic, require-starttls, implicit or none, not "${tls}"`,
      );
    }
    const relay = values.relay ? hostPort(values.relay, "--relay") : undefined;
    const keys = readProbeKeyFile(values["key-file"] as string);
    const sender = new SmtpSender({
      ...(relay ? { relay } : {}),
      tls: tls as "starttls",
      ...(nonEmptyPath(values["ca-file"], "--ca-file") ? { caFile: values["ca-file"] } : {}),
    });
    const log = consoleLogger((line) => io.stderr(line));
    const timeoutMs = seconds(values.timeout ?? "120", "--timeout");
    if (fetchMode) {
      const from = values.from as string;
      const inboundDomain = /@([^@\s>]+)>?\s*$/.exec(from)?.[1];
      if (inboundDomain === undefined) throw new UsageError(`--from must end in an address, not "${from}"`);
      const result = await oneFetchRoundTrip({
        to: values.to as string,
        from,
        inboundDomain,
        keys,
        sender,
        openMailbox: mailboxFromOptions(values, io, log),
        timeoutMs,
        pollMs: values.imap === undefined ? FETCH_POLL_MS.pop3 : FETCH_POLL_MS.imap,
        deleteAfterFetch: values.keep !== true,
        targetId: "probe",
        log,
      });
      const { line, code } = formatRoundTrip(result, warningMs, criticalMs, { fetch: true });
      io.stdout(line);
      return code;
    }
    const returnAddress = values["return-address"] as string;
    const listen = hostPort(values.listen ?? "127.0.0.1:2525", "--listen");
    const busy = await preflightListeners([{ key: "--listen", ...listen }]);
    if (busy !== undefined) {
      // Checked before the probe is sent: a probe whose return cannot be received is a false alarm.
      throw new UsageError(
        `${busy}. A running serve listens for its own return address there: give this probe a --return-address whose domain routes to another --listen port`,
      );
    }
    const result = await oneRoundTrip({
      to: values.to as string,
      returnAddress,
      from: values.from ?? returnAddress,
      keys,
      sender,
      listen,
      timeoutMs,
      targetId: "probe",
      log,
    });
    const { line, code } = formatRoundTrip(result, warningMs, criticalMs);
    io.stdout(line);
    return code;
  } catch (error) {
    io.stdout(`ROUNDTRIP UNKNOWN - ${(error as Error).message}`);
    return 3;
  }
}

/** A round trip's result as the Nagios line: status, time, where it landed, the verdicts, perfdata. */
export function formatRoundTrip(
  result: OneRoundTripResult | OneFetchRoundTripResult,
  warningMs: number,
  criticalMs: number,
  mode: { readonly fetch?: boolean } = {},
): { line: string; code: number } {
  const probe = result.probe;
  const perf = (rttMs?: number) =>
    `rtt=${rttMs === undefined ? "U" : `${(rttMs / 1000).toFixed(3)}s`};${(warningMs / 1000).toFixed(3)};${(criticalMs / 1000).toFixed(3)};0${mode.fetch ? ` ${verdictPerfdata(probe)}` : ""}`;
  if ((probe.state === "returned" || probe.state === "late") && probe.rttMs !== undefined) {
    // The RTT against the thresholds, and the receiver's verdicts (spam, DMARC fail) as in serve.
    const { status } = roundTripStatus(probe, { warningMs, criticalMs });
    const code = EXIT_CODES[status];
    const offset =
      probe.remoteClockOffsetMs !== undefined
        ? `, remote clock offset ${(probe.remoteClockOffsetMs / 1000).toFixed(3)} s`
        : probe.remoteClockSkewed === true
          ? ", remote clock skewed (over 10 min outside send and return)"
          : "";
    const { folder, ...verdicts } = probe.verdicts ?? { spam: [], ignoredAuthResults: 0, problems: [] };
    // Fetch mode: the folder is a finding of its own, said first.
    const landed =
      folder === undefined ? "" : `, landed in ${folder.junk ? "junk folder " : ""}${folder.name}`;
    // The Nagios text: perfdata must never see a "|" a receiver or a folder name wrote.
    const receiver = receiverSpoke(verdicts) ? `, receiver: ${verdictText(verdicts)}` : "";
    const text = `${(probe.rttMs / 1000).toFixed(3)} s${offset}${landed}${receiver}`.replaceAll("|", "/");
    return { line: `ROUNDTRIP ${status} - ${text} | ${perf(probe.rttMs)}`, code };
  }
  if (probe.state === "bounced") {
    const b = probe.bounce;
    return {
      line: `${`ROUNDTRIP CRITICAL - bounced: ${b?.status ?? "?"} ${b?.diagnostic ?? ""}`.trimEnd()} | ${perf()}`,
      code: 2,
    };
  }
  if (probe.state === "send-failed")
    return {
      line: `ROUNDTRIP CRITICAL - send-failed: ${probe.error ?? "unknown error"} | ${perf()}`,
      code: 2,
    };
  if ("rejected" in result && result.rejected) {
    return {
      line: `ROUNDTRIP CRITICAL - rejected: ${result.rejected.reason}: ${result.rejected.detail} | ${perf()}`,
      code: 2,
    };
  }
  const within = `within ${((probe.deadlineMs - probe.sentAtMs) / 1000).toFixed(0)} s`;
  if ("leftAlone" in result && result.leftAlone) {
    const { reason, message } = result.leftAlone;
    return {
      line: `ROUNDTRIP CRITICAL - lost: ${`found as ${message} but not taken (${reason})`.replaceAll("|", "/")} | ${perf()}`,
      code: 2,
    };
  }
  const missing = mode.fetch ? `not in the mailbox ${within}` : `no return ${within}`;
  return { line: `ROUNDTRIP CRITICAL - lost: ${missing} | ${perf()}`, code: 2 };
}

/**
 * Fetch mode's perfdata besides the RTT: junk=1 when the probe landed in the junk folder, 0 in
 * the inbox (U when not found), and spam_score where a filter gave one. DMARC and the other
 * results are words, in the text only.
 */
function verdictPerfdata(probe: ProbeRecord): string {
  const folder = probe.verdicts?.folder;
  const junk = folder === undefined ? "U" : folder.junk ? "1" : "0";
  const scored = probe.verdicts?.spam.find((spam) => spam.score !== undefined);
  const score =
    scored?.score === undefined
      ? ""
      : ` spam_score=${scored.score};${scored.threshold ?? ""};;;`.replace(/;+$/, "");
  return `junk=${junk};;;0;1${score}`;
}

function seconds(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 86_400)
    throw new UsageError(`${name} takes seconds (0-86400), not "${text}"`);
  return Math.round(value * 1000);
}

function hostPort(text: string, name: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port > 65_535) throw new UsageError(`${name} must be HOST:PORT, not "${text}"`);
  return { host: match[1] as string, port };
}
