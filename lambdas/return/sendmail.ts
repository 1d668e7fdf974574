import { spawn } from "node:child_process";

export interface SendmailRequest {
  /** Absolute path of the server's sendmail. */
  sendmail: string;
  recipient: string;
  message: string;
  timeoutMs: number;
}

export type SendmailResult = { ok: true } | { ok: false; reason: string };

const STDERR_KEPT = 500;

/**
 * Hands the reply to the server's own sendmail: `sendmail -oi -- <recipient>`. `-oi` so a
 * line holding a single "." does not end the message early; "--" so the recipient can never
 * be read as an option. The envelope sender is left to the MTA (the local user), so a bounce of
 * the reply comes back here with a null sender and is ignored: no loop.
 *
 * sendmail's stdout and stderr never reach ours (they would end up in a bounce); a little of
 * its stderr is kept for the log. Never rejects.
 */
export function sendWithSendmail(request: SendmailRequest): Promise<SendmailResult> {
  return new Promise((resolve) => {
    let settled = false;
    let stderr = "";
    const finish = (result: SendmailResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const child = spawn(request.sendmail, ["-oi", "--", request.recipient], {
      stdio: ["pipe", "ignore", "pipe"],
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish({ ok: false, reason: `sendmail timed out after ${request.timeoutMs} ms` });
    }, request.timeoutMs);
    child.on("error", (error: NodeJS.ErrnoException) => {
      finish({ ok: false, reason: `cannot run ${request.sendmail}: ${error.code ?? error.message}` });
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < STDERR_KEPT) stderr = (stderr + chunk.toString("utf8")).slice(0, STDERR_KEPT);
    });
    child.on("close", (code, signal) => {
      if (code === 0) return finish({ ok: true });
      const how = signal !== null ? `was killed by ${signal}` : `exited ${code}`;
      const said = stderr.trim() === "" ? "" : `: ${stderr.trim()}`;
      finish({ ok: false, reason: `sendmail ${how}${said}` });
    });
    // A sendmail that exits without reading all of stdin gives EPIPE here; its exit status
    // (reported by "close") is what counts.
    child.stdin.on("error", () => {});
    child.stdin.end(request.message);
  });
}
