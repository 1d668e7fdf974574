import { GetSendQuotaCommand, type SESClient, SendRawEmailCommand } from "@aws-sdk/client-ses";
import { describeError } from "../../core/basics/describe-error.ts";
import type { Logger } from "../../core/ports/logger.ts";
import type { MailSender, OutgoingMessage, SendReceipt } from "../../core/ports/mail-sender.ts";
import { type PacingTimer, realTimer, SendPacer } from "./ses-send-pacer.ts";

/** How long a run may keep one probe waiting for a send slot or retrying a throttled send. */
export const SES_SEND_BUDGET_MS = 120_000;
/** A throttled send waits at least into SES's next second, doubling up to 16 s (with jitter). */
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 16_000;
/** SES v1 names throttling "Throttling"; its documentation says "ThrottlingException". */
const THROTTLING = new Set(["Throttling", "ThrottlingException"]);
/** The one throttling SES answers that waiting within a run cannot cure. */
const DAILY_QUOTA = /daily message quota exceeded/i;
const NOT_VERIFIED = /email address is not verified/i;
const ADDRESS = /[^\s<>,;:"()]+@[^\s<>,;:"()]+/g;
/** A new account's sandbox quota: 200 messages a day, 1 a second. */
const SANDBOX_QUOTA = { max24HourSend: 200, maxSendRate: 1 } as const;

export interface SesSendOptions {
  readonly log: Logger;
  /** The configuration set whose suppression list is off (SES_CONFIGURATION_SET); none when undefined. */
  readonly configurationSetName?: string;
  readonly timer?: PacingTimer;
  /** From the sender's creation (the run's start); SES_SEND_BUDGET_MS by default. */
  readonly budgetMs?: number;
  /** Jitter of the backoff, in [0, 1); tests fix it. */
  readonly random?: () => number;
  /**
   * The part of the account's MaxSendRate this sender may use, in (0, 1]: 1 / shards when a run's
   * shards send side by side, so together they stay within the account's rate. Default 1.
   */
  readonly rateShare?: number;
}

/** The account's sending quota (SES v1 GetSendQuota). */
export interface SendQuota {
  readonly maxSendRate: number;
  readonly max24HourSend: number;
  readonly sentLast24Hours: number;
}

/** SES would not send a probe; the message starts with SES's error code, which operators search for. */
export class SesSendError extends Error {
  override readonly name = "SesSendError";
  constructor(
    message: string,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * MailSender over SES SendRawEmail (SES v1) for one prober run: the prebuilt probe goes out byte
 * for byte, with the envelope given explicitly. `Source` is the envelope sender (bounces+<probeId>@
 * the inbound domain): SES sends with its own MAIL FROM and forwards bounces there; its domain
 * must be a verified SES identity. SES may replace the Message-ID header; correlation relies on
 * the X-Scout-Probe token only.
 *
 * Sends are paced to the account's MaxSendRate, read once per run on the first send; a send SES
 * throttles is retried with backoff within the run's budget, so a busy account is never taken for
 * a failing target. Anything else SES refuses fails the send at once, its code kept in the text.
 */
export class SesMailSender implements MailSender {
  private readonly timer: PacingTimer;
  private readonly deadlineMs: number;
  private pacing: Promise<{ pacer?: SendPacer; quota?: SendQuota }> | undefined;
  private sandboxReported = false;
  /** Slots reserveSend took for sends still to come: those sends go without waiting again. */
  private reservedSlots = 0;

  constructor(
    private readonly ses: SESClient,
    private readonly options: SesSendOptions,
  ) {
    this.timer = options.timer ?? realTimer;
    this.deadlineMs = this.timer.now() + (options.budgetMs ?? SES_SEND_BUDGET_MS);
  }

  /** Waits for the next send slot and holds it for the next send; see MailSender.reserveSend. */
  async reserveSend(): Promise<void> {
    const { pacer } = await this.startPacing();
    if (pacer !== undefined && (await pacer.acquire(this.deadlineMs))) this.reservedSlots += 1;
  }

  async send(message: OutgoingMessage): Promise<SendReceipt> {
    const { pacer, quota } = await this.startPacing();
    for (let attempt = 1; ; attempt += 1) {
      const reserved = attempt === 1 && this.reservedSlots > 0;
      if (reserved) this.reservedSlots -= 1;
      else if (pacer !== undefined && !(await pacer.acquire(this.deadlineMs))) {
        throw new SesSendError(
          `not sent: at MaxSendRate ${quota?.maxSendRate}/s no send slot was left in the run's SES send budget of ${this.budgetSeconds()} s`,
          "SendBudgetSpent",
        );
      }
      try {
        const result = await this.ses.send(
          new SendRawEmailCommand({
            Source: message.envelope.from,
            Destinations: [...message.envelope.to],
            RawMessage: { Data: message.raw },
            ...(this.options.configurationSetName === undefined
              ? {}
              : { ConfigurationSetName: this.options.configurationSetName }),
          }),
        );
        const retried = attempt > 1 ? ` after ${attempt} attempts (throttled)` : "";
        return { response: `SES accepted${retried}, MessageId ${result.MessageId ?? "(none)"}` };
      } catch (error) {
        const code = errorCode(error);
        if (!THROTTLING.has(code) || DAILY_QUOTA.test(describeError(error))) {
          throw this.refusal(error, message, quota);
        }
        const waitMs = this.backoff(attempt);
        if (this.timer.now() + waitMs > this.deadlineMs) {
          throw new SesSendError(
            `${code}: ${describeError(error)} (still throttled after ${attempt} attempts; the run's send budget of ${this.budgetSeconds()} s is spent)`,
            code,
            { cause: error },
          );
        }
        await this.timer.sleep(waitMs);
      }
    }
  }

  /** The quota and pacer of this run, read once whatever the number of concurrent sends. */
  private startPacing(): Promise<{ pacer?: SendPacer; quota?: SendQuota }> {
    this.pacing ??= this.readQuota().then((quota) =>
      quota === undefined
        ? {}
        : { quota, pacer: new SendPacer(quota.maxSendRate * (this.options.rateShare ?? 1), this.timer) },
    );
    return this.pacing;
  }

  /**
   * Undefined when it cannot be read: the run then sends unpaced and relies on the throttling
   * retries, which is slower than pacing but never wrong, where a guessed rate could be far off.
   */
  private async readQuota(): Promise<SendQuota | undefined> {
    try {
      const answer = await this.ses.send(new GetSendQuotaCommand({}));
      if (!(Number(answer?.MaxSendRate) > 0)) throw new Error("GetSendQuota gave no MaxSendRate");
      const quota = {
        maxSendRate: Number(answer.MaxSendRate),
        max24HourSend: Number(answer.Max24HourSend),
        sentLast24Hours: Number(answer.SentLast24Hours ?? 0),
      };
      this.options.log.info("SES sending quota", { ...quota, sandbox: looksLikeSandbox(quota) });
      return quota;
    } catch (error) {
      this.options.log.warn(
        "cannot read the SES sending quota (ses:GetSendQuota): probes are not paced this run, throttled sends are retried",
        { error: `${errorCode(error)}: ${describeError(error)}` },
      );
      return undefined;
    }
  }

  /** What SES said, code first; in the sandbox, what to do about an unverified recipient. */
  private refusal(error: unknown, message: OutgoingMessage, quota: SendQuota | undefined): SesSendError {
    const code = errorCode(error);
    const said = `${code}: ${describeError(error)}`;
    const unverified = unverifiedRecipient(error, message.envelope.to, quota);
    if (unverified === undefined) return new SesSendError(said, code, { cause: error });
    if (!this.sandboxReported) {
      this.sandboxReported = true;
      this.options.log.error(
        "SES sandbox: SES sends only to verified identities; verify each probe address as an identity, or request production access (docs/aws.md)",
        { to: unverified, ses: said },
      );
    }
    return new SesSendError(
      `SES sandbox: verify the probe address ${unverified} as an identity, or request production access (${said})`,
      code,
      { cause: error },
    );
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (this.options.random ?? Math.random)() * (ceiling / 2));
  }

  private budgetSeconds(): number {
    return (this.options.budgetMs ?? SES_SEND_BUDGET_MS) / 1000;
  }
}

/** The quota SES gives a new account in the sandbox (it has no other sign in the v1 API). */
export function looksLikeSandbox(quota: Pick<SendQuota, "maxSendRate" | "max24HourSend">): boolean {
  return (
    quota.max24HourSend === SANDBOX_QUOTA.max24HourSend && quota.maxSendRate === SANDBOX_QUOTA.maxSendRate
  );
}

/** The SDK names a service error by its code ("MessageRejected", "Throttling"). */
function errorCode(error: unknown): string {
  return error instanceof Error ? error.name : "Error";
}

/**
 * The recipient SES refused as unverified, which only the sandbox checks. SES lists the failed
 * identities ("Email address is not verified. The following identities failed the check in
 * region EU-WEST-1: a@b.example"); a list without the recipient means the sender is unverified.
 * A list SES cut short ends with an ellipsis. With no list, the sandbox quota decides.
 */
function unverifiedRecipient(
  error: unknown,
  recipients: readonly string[],
  quota: SendQuota | undefined,
): string | undefined {
  const text = describeError(error);
  if (errorCode(error) !== "MessageRejected" || !NOT_VERIFIED.test(text)) return undefined;
  const listed = /identities failed the check[^:]*:(.*)$/is.exec(text)?.[1];
  if (listed !== undefined) {
    const failed = new Set(
      (listed.match(ADDRESS) ?? []).map((address) => address.replace(/\.+$/, "").toLowerCase()),
    );
    return recipients.find((to) => failed.has(to.toLowerCase()));
  }
  return quota !== undefined && looksLikeSandbox(quota) ? recipients[0] : undefined;
}
