import { parseArgs } from "node:util";
import { EXIT_CODES } from "../../core/checks/reasons.ts";
import { roundTripStatus } from "../../core/events/roundtrip-status.ts";
import { receiverSpoke } from "../../core/verdicts/receiver-verdicts.ts";
import { verdictText } from "../../core/verdicts/verdict-text.ts";
import { readProbeKeyFile } from "../../core/wire/probe-key-file.ts";
import { SmtpSender } from "../adapters/smtp-sender.ts";
import { consoleLogger } from "../serve/console-logger.ts";
import { type OneRoundTripResult, oneRoundTrip } from "../serve/one-round-trip.ts";
import { type CommandIo, nonEmptyPath, UsageError } from "./io.ts";
import { preflightListeners } from "./listen-preflight.ts";

export const PROBE_HELP = `Usage: email-scout probe --to ADDR --return-address ADDR --key-file FILE [options]

One round trip as a Nagios plugin, with no monitor running: sends one signed probe to ADDR,
receives its return (or bounce) on a short-lived SMTP listener, and prints
  ROUNDTRIP OK - 0.214 s | rtt=0.214s;W;C;0
Exit 0 OK, 1 WARNING (slow, or came back late), 2 CRITICAL (lost, bounced, a forged or
invalid return, or the probe could not be sent), 3 UNKNOWN (bad options).

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
  help: { type: "boolean", short: "h" },
} as const;

export async function probeCommand(args: string[], io: CommandIo): Promise<number> {
  try {
    const { values } = parseArgs({ args, options: OPTIONS, strict: true });
    if (values.help) {
      io.stdout(PROBE_HELP);
      return 0;
    }
    const missing = (["to", "return-address", "key-file"] as const).filter((name) => !values[name]);
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
      timeoutMs: seconds(values.timeout ?? "120", "--timeout"),
      targetId: "probe",
      log: consoleLogger((line) => io.stderr(line)),
    });
    const { line, code } = formatRoundTrip(result, warningMs, criticalMs);
    io.stdout(line);
    return code;
  } catch (error) {
    io.stdout(`ROUNDTRIP UNKNOWN - ${(error as Error).message}`);
    return 3;
  }
}

export function formatRoundTrip(
  result: OneRoundTripResult,
  warningMs: number,
  criticalMs: number,
): { line: string; code: number } {
  const probe = result.probe;
  const perf = (rttMs?: number) =>
    `rtt=${rttMs === undefined ? "U" : `${(rttMs / 1000).toFixed(3)}s`};${(warningMs / 1000).toFixed(3)};${(criticalMs / 1000).toFixed(3)};0`;
  if (probe.state === "returned" && probe.rttMs !== undefined) {
    // The RTT against the thresholds, and the receiver's verdicts (spam, DMARC fail) as in serve.
    const { status } = roundTripStatus(probe, { warningMs, criticalMs });
    const code = EXIT_CODES[status];
    const offset =
      probe.remoteClockOffsetMs !== undefined
        ? `, remote clock offset ${(probe.remoteClockOffsetMs / 1000).toFixed(3)} s`
        : probe.remoteClockSkewed === true
          ? ", remote clock skewed (over 10 min outside send and return)"
          : "";
    const verdicts = probe.verdicts;
    // The Nagios text: perfdata must never see a "|" a receiver wrote.
    const receiver =
      verdicts !== undefined && receiverSpoke(verdicts)
        ? `, receiver: ${verdictText(verdicts).replaceAll("|", "/")}`
        : "";
    return {
      line: `ROUNDTRIP ${status} - ${(probe.rttMs / 1000).toFixed(3)} s${offset}${receiver} | ${perf(probe.rttMs)}`,
      code,
    };
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
  if (result.rejected) {
    return {
      line: `ROUNDTRIP CRITICAL - rejected: ${result.rejected.reason}: ${result.rejected.detail} | ${perf()}`,
      code: 2,
    };
  }
  return {
    line: `ROUNDTRIP CRITICAL - lost: no return within ${((probe.deadlineMs - probe.sentAtMs) / 1000).toFixed(0)} s | ${perf()}`,
    code: 2,
  };
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
