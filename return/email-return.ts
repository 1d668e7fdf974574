/*
 * email_return: answers Email Scout's round-trip probes from a ~/.forward pipe on a monitored
 * mail server. Built into dist/email_return.cjs (Node standard library only):
 *
 *   "|/usr/bin/node /home/probe/.email-scout/email_return.cjs --config /home/probe/.email-scout/return.json"
 *
 * Exit 0: replied, or chose not to (the message is then dropped, which is what a probe
 * mailbox wants). Exit 75 (EX_TEMPFAIL): configuration, key or sendmail trouble; the MTA
 * keeps the message and retries, so nothing is lost while the admin fixes it.
 * Nothing is ever written to stdout or stderr: the MTA would put it into a bounce.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { headerValue, parseMessage } from "../core/wire/parse-headers.ts";
import type { ProbeKeyRing } from "../core/wire/probe-key.ts";
import { readProbeKeyFile } from "../core/wire/probe-key-file.ts";
import { composeReply, replyFromAddress } from "./compose-reply.ts";
import { ConfigError, loadConfig, type ReturnConfig } from "./config.ts";
import { decide, envelopeSenderOf } from "./decide.ts";
import { appendLog, describeError, type LogEntry } from "./log.ts";
import { readBoundedFd } from "./read-bounded.ts";
import { sendWithSendmail } from "./sendmail.ts";

const EX_OK = 0;
const EX_TEMPFAIL = 75;
const SENDMAIL_TIMEOUT_MS = 60_000;

// Taken first: the time the message reached this server is part of the measurement.
const arrivedAtMs = Date.now();
silenceOutput();

let logFile: string | undefined;
const log = (entry: Omit<LogEntry, "at">) => appendLog(logFile, { at: new Date(), ...entry });

run().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log({ decision: "tempfail", reason: "internal-error", detail: describeError(error) });
    process.exitCode = EX_TEMPFAIL;
  },
);

async function run(): Promise<number> {
  const configPath = configPathFrom(process.argv.slice(2));
  if (configPath === undefined) return EX_TEMPFAIL;
  let config: ReturnConfig;
  try {
    config = loadConfig(configPath);
  } catch (error) {
    if (error instanceof ConfigError) logFile = error.logFile;
    log({ decision: "tempfail", reason: "bad-config", detail: describeError(error) });
    return EX_TEMPFAIL;
  }
  logFile = config.logFile;

  let keys: ProbeKeyRing;
  try {
    keys = readProbeKeyFile(config.keyFile);
  } catch (error) {
    log({ decision: "tempfail", reason: "bad-key-file", detail: describeError(error) });
    return EX_TEMPFAIL;
  }

  const input = await readBoundedFd(0, config.maxBytes, () => process.stdin);
  const message = parseMessage(input.data);
  const messageId = headerValue(message.fields, "Message-ID");
  const decision = decide({
    fields: message.fields,
    envelopeSender: envelopeSenderOf(process.env, message),
    keys,
    nowMs: arrivedAtMs,
    maxAgeMs: config.maxAgeSeconds * 1000,
  });
  if (decision.action === "ignore") {
    const { reason, probeId, detail } = decision;
    log({ decision: "ignored", reason, probeId, messageId, detail });
    return EX_OK;
  }

  const host = hostname();
  const reply = composeReply({
    returnTo: config.returnTo,
    from: replyFromAddress(config.from, process.env, message, host),
    token: decision.token,
    arrivedAtMs,
    message,
    key: decision.key,
    headerBlockCut: input.truncated && !message.complete,
    now: new Date(),
    hostname: host,
    uniqueId: `scout-return.${randomBytes(12).toString("base64url")}`,
  });
  const sent = sendWithSendmail({
    sendmail: config.sendmail,
    recipient: config.returnTo,
    message: reply,
    timeoutMs: SENDMAIL_TIMEOUT_MS,
  });
  const probeId = decision.token.probeId;
  if (!sent.ok) {
    log({ decision: "tempfail", reason: "sendmail-failed", probeId, messageId, detail: sent.reason });
    return EX_TEMPFAIL;
  }
  log({ decision: "replied", reason: decision.reason, probeId, messageId });
  return EX_OK;
}

/** `--config <path>` or `--config=<path>`, and nothing else. */
function configPathFrom(args: string[]): string | undefined {
  if (args.length === 2 && args[0] === "--config") return args[1];
  if (args.length === 1 && args[0]?.startsWith("--config=")) return args[0].slice("--config=".length);
  return undefined;
}

/**
 * Whatever goes wrong, nothing may reach stdout/stderr: the MTA would mail it back to the
 * probe's sender in a bounce. So Node's default warning printer is removed, stray writes are
 * swallowed, and an error that escapes everything becomes a quiet tempfail.
 */
function silenceOutput(): void {
  process.removeAllListeners("warning");
  const swallow = (() => true) as typeof process.stdout.write;
  // process.stdout/stderr are created on first use (loading Node's stream code, ~4 ms of a
  // start-up measured in every round trip): silence them when first used, not before.
  for (const name of ["stdout", "stderr"] as const) {
    const original = Object.getOwnPropertyDescriptor(process, name);
    const get = original?.get;
    if (get === undefined || !original?.configurable) {
      process[name].write = swallow;
      continue;
    }
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: original.enumerable ?? false,
      get() {
        const stream = get.call(process) as typeof process.stdout;
        stream.write = swallow;
        return stream;
      },
    });
  }
  const fail = (error: unknown) => {
    log({ decision: "tempfail", reason: "internal-error", detail: describeError(error) });
    process.exit(EX_TEMPFAIL);
  };
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
}
