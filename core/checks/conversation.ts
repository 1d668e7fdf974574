import { CheckFailure, type Phase } from "./errors.ts";
import { ChannelError, type LineChannel } from "./line-channel.ts";
import type { Reason } from "./reasons.ts";
import type { LoginMechanismName } from "./sasl/mechanism-names.ts";

/** Longest multi-line reply accepted (continuation lines of one SMTP reply, CAPA lines...). */
export const MAX_REPLY_LINES = 500;

/**
 * One dialogue with a server: the current phase and its absolute deadline, and reading and
 * writing lines whose failures become CheckFailures named after the phase they happened in.
 */
export class Conversation {
  phase: Phase = "greeting";
  deadline = 0;
  /** The login mechanism chosen for this dialogue (SASL name, IMAP-LOGIN or POP3-USER), for the result. */
  authMechanism: LoginMechanismName | undefined;
  private tagSequence = 0;
  /** A refusal read as "feature absent" for now (POP3 CAPA -ERR without a code), until the server hangs up. */
  private pendingRefusal: { step: string; text: string } | undefined;

  constructor(public channel: LineChannel) {}

  /** Lines read since the current phase began: whether the server answered it at all. */
  linesReadInPhase = 0;

  enter(phase: Phase, deadline: number): void {
    this.phase = phase;
    this.deadline = deadline;
    this.linesReadInPhase = 0;
  }

  /** IMAP command tags: a1, a2, ... */
  nextTag(): string {
    this.tagSequence += 1;
    return `a${this.tagSequence}`;
  }

  /**
   * Remembers a refusal that may only mean "not supported" (a POP3 server without CAPA) or may
   * be the server refusing service before it hangs up (Cyrus in maintenance). Should the
   * connection close later, that close is reported as the refusal, with the server's words.
   */
  noteRefusal(step: string, text: string): void {
    this.pendingRefusal = { step, text };
  }

  /** The refusal noted by noteRefusal, if any. */
  get notedRefusal(): { readonly step: string; readonly text: string } | undefined {
    return this.pendingRefusal;
  }

  /** The next line the server has already sent, without waiting; undefined when none is waiting. */
  takeBufferedLine(): string | undefined {
    const line = this.channel.takeBufferedLine();
    if (line !== undefined) this.linesReadInPhase += 1;
    return line;
  }

  send(line: string): void {
    this.channel.write(line);
  }

  async readLine(): Promise<string> {
    try {
      const line = await this.channel.readLine(this.deadline);
      this.linesReadInPhase += 1;
      return line;
    } catch (error) {
      if (error instanceof ChannelError) throw this.channelFailure(error);
      throw error;
    }
  }

  /** The reply breaks the grammar: a bad greeting before the dialogue starts, a protocol error after. */
  grammarError(message: string, line: string): CheckFailure {
    const reason: Reason = this.phase === "greeting" ? "bad-greeting" : "protocol-error";
    return new CheckFailure(reason, this.phase, message, truncate(line));
  }

  fail(reason: Reason, message: string, serverReply?: string): CheckFailure {
    return new CheckFailure(
      reason,
      this.phase,
      message,
      serverReply === undefined ? undefined : truncate(serverReply),
    );
  }

  private channelFailure(error: ChannelError): CheckFailure {
    const partial = error.partial ? ` (received so far: "${truncate(error.partial, 80)}")` : "";
    const inGreeting = this.phase === "greeting";
    switch (error.kind) {
      case "timeout": {
        const reason: Reason = inGreeting ? "timeout-greeting" : "timeout-reply";
        const what = inGreeting ? "no complete greeting" : `no complete reply during ${this.phase}`;
        return new CheckFailure(reason, this.phase, `${what} before the deadline${partial}`, undefined, {
          cause: error,
        });
      }
      case "line-too-long":
        return new CheckFailure(
          inGreeting ? "bad-greeting" : "protocol-error",
          this.phase,
          error.message,
          error.partial,
          {
            cause: error,
          },
        );
      case "closed": {
        const refused = this.pendingRefusal;
        if (refused && !inGreeting) {
          return new CheckFailure(
            "service-unavailable",
            this.phase,
            `the server refused ${refused.step} and then closed the connection (${error.message} during ${this.phase})`,
            truncate(refused.text),
            { cause: error },
          );
        }
        const reason: Reason = inGreeting && error.partial ? "bad-greeting" : "connection-closed";
        return new CheckFailure(reason, this.phase, `${error.message} during ${this.phase}`, undefined, {
          cause: error,
        });
      }
    }
  }
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
