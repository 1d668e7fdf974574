import { spawnSync } from "node:child_process";

export interface SendmailRequest {
  /** Absolute path of the server's sendmail. */
  sendmail: string;
  recipient: string;
  message: string;
  timeoutMs: number;
}

export type SendmailResult = { ok: true } | { ok: false; reason: string };

const STDERR_KEPT = 500;
/** A sendmail that writes more than this to stderr is stopped (and reported as failed). */
const STDERR_LIMIT_BYTES = 1024 * 1024;

/**
 * Hands the reply to the server's own sendmail: `sendmail -oi -- <recipient>`. `-oi` so a
 * line holding a single "." does not end the message early; "--" so the recipient can never
 * be read as an option. The envelope sender is left to the MTA (the local user), so a bounce of
 * the reply comes back here with a null sender and is ignored: no loop.
 *
 * Synchronous on purpose: email_return has nothing else to do meanwhile, and spawnSync feeds
 * stdin and collects stderr in C++, where spawn() would load Node's stream and socket code
 * (~5 ms of a start-up that is measured in every round trip).
 *
 * sendmail's stdout and stderr never reach ours (they would end up in a bounce); a little of
 * its stderr is kept for the log. Never throws.
 */
export function sendWithSendmail(request: SendmailRequest): SendmailResult {
  const result = spawnSync(request.sendmail, ["-oi", "--", request.recipient], {
    input: request.message,
    stdio: ["pipe", "ignore", "pipe"],
    timeout: request.timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: STDERR_LIMIT_BYTES,
  });
  // The exit status is what counts: spawnSync also reports EPIPE (a sendmail that exits
  // without reading all of its input) and ETIMEDOUT / ENOBUFS for a sendmail that already
  // exited 0 while a child of its kept stderr open. Retrying those (exit 75) would send the
  // reply again.
  if (result.status === 0 && result.signal === null) return { ok: true };
  const code = (result.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ETIMEDOUT") return { ok: false, reason: `sendmail timed out after ${request.timeoutMs} ms` };
  if (result.error !== undefined && result.pid === 0) {
    return { ok: false, reason: `cannot run ${request.sendmail}: ${code ?? result.error.message}` };
  }
  const stderr = (result.stderr?.toString("utf8") ?? "").slice(0, STDERR_KEPT).trim();
  const how =
    code === "ENOBUFS"
      ? `was stopped after writing over ${STDERR_LIMIT_BYTES} bytes to stderr`
      : result.signal !== null
        ? `was killed by ${result.signal}`
        : `exited ${result.status}`;
  return { ok: false, reason: `sendmail ${how}${stderr === "" ? "" : `: ${stderr}`}` };
}
