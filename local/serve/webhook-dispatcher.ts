import { EventEmitter } from "node:events";
import { type Clock, systemClock } from "../../core/ports/clock.ts";
import type { LogFields, Logger } from "../../core/ports/logger.ts";
import type { WebhookPoster } from "../../core/ports/webhook-poster.ts";
import { HTTP_WEBHOOK_POSTER } from "../../core/webhook/attempt.ts";
import {
  type EndpointHold,
  endpointAnswered,
  expiredWhileHeld,
  expiryCutoffMs,
  holdAfterFailure,
} from "../../core/webhook/endpoint-hold.ts";
import type { AttemptOutcome, DeliveryTarget } from "../../core/webhook/outcome.ts";
import { decideRetry, type RetryPolicy } from "../../core/webhook/retry-policy.ts";
import type { OutboxRow, SqliteOutbox } from "../adapters/sqlite-outbox.ts";

export interface WebhookDispatcherOptions {
  readonly outbox: SqliteOutbox;
  /** Where each endpoint id of the outbox delivers to (resolveWebhookEndpoints gives these). */
  readonly endpoints: readonly DeliveryTarget[];
  readonly policy: RetryPolicy;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Attempts in flight at once, over all endpoints. */
  readonly concurrency?: number;
  /** How attempts are made; signed HTTP POSTs unless a test says otherwise. */
  readonly poster?: WebhookPoster;
  /** Backoff jitter source, in [0, 1). */
  readonly random?: () => number;
  /**
   * The longest sleep between looks at the outbox, so rows that another process made due
   * (`email-scout webhook redrive`) are picked up without a restart.
   */
  readonly idleCheckMs?: number;
}

/**
 * An endpoint whose last attempt failed: all its rows wait until `heldUntilMs`, then one probe
 * (its oldest row) goes out alone. The backoff is the endpoint's (`failures` probes in a row),
 * not each row's, so a receiver that answers again gets its whole backlog at once.
 */
interface EndpointCircuit extends EndpointHold {
  /** The row key of the probe in flight, if one is. */
  probe?: string;
}

export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_IDLE_CHECK_MS = 5_000;

/**
 * Local mode's delivery loop over the SQLite outbox. It wakes as soon as `publish` queues
 * rows (no polling delay for a healthy receiver), otherwise sleeps until the next row is due;
 * at most `concurrency` attempts run at once. Rows are only marked after their attempt ends,
 * so rows in flight when the process dies are simply due again on the next start: delivery
 * is at least once, and receivers dedupe by webhook-id.
 *
 * Failures are backed off per endpoint, not per row (see EndpointCircuit): after a failure the
 * endpoint's rows are held; when the backoff ends one probe goes out; a success makes every held
 * row due at once, in queued order; a failure holds the endpoint for the next backoff step.
 */
export class WebhookDispatcher {
  /** "attempt" after every attempt with its row (as it was before) and outcome: for status pages and tests. */
  readonly events = new EventEmitter<{ attempt: [OutboxRow, AttemptOutcome] }>();
  private readonly outbox: SqliteOutbox;
  private readonly targets: Map<string, DeliveryTarget>;
  private readonly policy: RetryPolicy;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly concurrency: number;
  private readonly random: () => number;
  private readonly poster: WebhookPoster;
  private readonly idleCheckMs: number;
  private readonly inFlight = new Map<string, Promise<void>>();
  /**
   * Rows whose last attempt could not be recorded (database full or locked), held until this
   * time: they are still pending and due in the outbox, and without a pause they would be
   * sent again in a tight loop, whatever the retry policy says.
   */
  private readonly heldUntil = new Map<string, number>();
  /** Endpoints whose last attempt failed, by id; absent when the endpoint delivers. */
  private readonly circuits = new Map<string, EndpointCircuit>();
  /** Attempts that ended and wait to be recorded together (one transaction per batch). */
  private finished: Array<{ row: OutboxRow; outcome: AttemptOutcome; recorded: () => void }> = [];
  private flushQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private pumpQueued = false;
  private started = false;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;

  constructor(options: WebhookDispatcherOptions) {
    this.outbox = options.outbox;
    this.targets = new Map(options.endpoints.map((endpoint) => [endpoint.id, endpoint]));
    this.policy = options.policy;
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.random = options.random ?? Math.random;
    this.poster = options.poster ?? HTTP_WEBHOOK_POSTER;
    this.idleCheckMs = options.idleCheckMs ?? DEFAULT_IDLE_CHECK_MS;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError(`webhook concurrency must be a whole number >= 1, got ${this.concurrency}`);
    }
  }

  /** Starts delivering: rows left pending by an earlier run go out at once. */
  start(): void {
    if (this.started) throw new Error("the webhook dispatcher was already started");
    this.started = true;
    this.unsubscribe = this.outbox.onQueued(() => this.wake());
    this.wake();
  }

  /** Looks at the outbox soon (coalesced: a burst of publishes costs one look). */
  wake(): void {
    if (this.pumpQueued || this.stopped || !this.started) return;
    this.pumpQueued = true;
    setImmediate(() => this.pump());
  }

  /** Stops taking rows and waits for the attempts in flight to be recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Attempts running now. */
  get busy(): number {
    return this.inFlight.size;
  }

  private pump(): void {
    this.pumpQueued = false;
    if (this.stopped) return;
    const free = this.concurrency - this.inFlight.size;
    if (free <= 0) return; // every slot busy: the next attempt to end pumps again
    const nowMs = this.clock.now();
    try {
      // Rows in flight are still pending and due, so ask for enough to see `free` others.
      for (const [key, untilMs] of this.heldUntil) if (untilMs <= nowMs) this.heldUntil.delete(key);
      const probing = [...this.circuits].flatMap(([id, circuit]) => (circuit.probe ? [id] : []));
      const reheld = new Set<string>();
      const rows = this.outbox
        .due(nowMs, this.inFlight.size + this.heldUntil.size + free, probing)
        .filter((row) => !this.inFlight.has(rowKey(row)) && !this.heldUntil.has(rowKey(row)))
        .filter((row) => this.mayLaunch(row, nowMs, reheld))
        .slice(0, free);
      for (const row of rows) this.launch(row);
      if (rows.length < free) this.armTimer(nowMs);
    } catch (error) {
      // The database is unusable for now (locked, full, closed): look again later, never crash.
      this.log.error("webhook outbox unreadable; trying again later", {
        error: String((error as Error)?.message ?? error),
      });
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.wake(), this.idleCheckMs);
    }
  }

  /**
   * Whether a due row may go out now: always, unless its endpoint is failing. Then only one
   * probe, once the endpoint's backoff is over; rows queued (or redriven) while it is held
   * join the hold.
   */
  private mayLaunch(row: OutboxRow, nowMs: number, reheld: Set<string>): boolean {
    const circuit = this.circuits.get(row.endpointId);
    if (!circuit) return true;
    if (circuit.probe) return false;
    if (nowMs < circuit.heldUntilMs) {
      // One update per look moves all of the endpoint's new rows.
      if (!reheld.has(row.endpointId)) this.outbox.holdEndpoint(row.endpointId, circuit.heldUntilMs);
      reheld.add(row.endpointId);
      return false;
    }
    circuit.probe = rowKey(row);
    return true;
  }

  private armTimer(nowMs: number): void {
    clearTimeout(this.timer);
    const next = this.outbox.nextDueAfter(nowMs);
    const delay =
      next === undefined ? this.idleCheckMs : Math.min(this.idleCheckMs, Math.max(0, next - nowMs));
    this.timer = setTimeout(() => this.wake(), delay);
  }

  private launch(row: OutboxRow): void {
    const target = this.targets.get(row.endpointId);
    if (!target) {
      const error = `endpoint "${row.endpointId}" is no longer configured; add it back, then: email-scout webhook redrive --endpoint ${row.endpointId}`;
      this.outbox.markFailed(row, undefined, error, this.clock.now());
      this.log.warn("webhook event kept as failed", { endpoint: row.endpointId, event: row.eventId, error });
      return;
    }
    const key = rowKey(row);
    const attempt = this.poster
      .attempt(target, { id: row.eventId, json: row.eventJson }, this.clock.now())
      .then((outcome) => this.recordSoon(row, outcome));
    this.inFlight.set(key, attempt);
  }

  /**
   * Queues an ended attempt to be recorded with the others that end in the same turn of the
   * event loop. Its row stays "in flight" until then, so it is never taken twice.
   */
  private recordSoon(row: OutboxRow, outcome: AttemptOutcome): Promise<void> {
    return new Promise((recorded) => {
      this.finished.push({ row, outcome, recorded });
      if (this.flushQueued) return;
      this.flushQueued = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.flushQueued = false;
    const batch = this.finished.splice(0);
    try {
      this.outbox.inTransaction(() => {
        for (const { row, outcome } of batch) this.record(row, outcome);
      });
    } catch (error) {
      // Nothing was marked: the rows stay pending and are sent again (at least once), after a
      // pause, not at once.
      const untilMs = this.clock.now() + this.idleCheckMs;
      for (const { row } of batch) {
        this.heldUntil.set(rowKey(row), untilMs);
        const circuit = this.circuits.get(row.endpointId);
        if (circuit?.probe === rowKey(row)) circuit.probe = undefined;
      }
      this.log.error("webhook attempts could not be recorded; they will be retried", {
        attempts: batch.length,
        retryInMs: this.idleCheckMs,
        error: String((error as Error)?.message ?? error),
      });
    }
    for (const { row, outcome, recorded } of batch) {
      this.inFlight.delete(rowKey(row));
      recorded();
      this.events.emit("attempt", row, outcome);
    }
    this.pump();
  }

  /** Marks one row by its outcome; runs inside the batch's transaction. */
  private record(row: OutboxRow, outcome: AttemptOutcome): void {
    const nowMs = this.clock.now();
    const fields = {
      endpoint: row.endpointId,
      event: row.eventId,
      type: row.eventType,
      attempt: row.attempts + 1,
      status: outcome.status,
      ms: outcome.durationMs,
      error: outcome.error,
    };
    switch (outcome.kind) {
      case "delivered":
        this.outbox.markDelivered(row, outcome.status ?? 200, nowMs);
        this.endpointAnswered(row, nowMs, fields);
        break;
      case "retry": {
        const decision = decideRetry(
          { attempts: row.attempts + 1, queuedAtMs: row.createdAtMs, nowMs, outcome },
          this.policy,
          this.random,
        );
        const error = outcome.error ?? "failed";
        if (decision.action === "retry") {
          const heldUntilMs = this.endpointFailed(row, outcome, nowMs, fields);
          this.outbox.markRetry(row, heldUntilMs, outcome.status, error, nowMs);
        } else {
          // Marked before the endpoint's hold, which would otherwise expire this row unattributed.
          this.outbox.markFailed(row, outcome.status, `${error}; ${decision.reason}`, nowMs);
          this.log.warn("webhook event kept as failed (redrive it with: email-scout webhook redrive)", {
            ...fields,
            reason: decision.reason,
          });
          this.endpointFailed(row, outcome, nowMs, fields);
        }
        break;
      }
      case "rejected":
        this.outbox.markRejected(row, outcome.status, outcome.error ?? "rejected", nowMs);
        this.log.warn("webhook event rejected by the receiver; not retried", fields);
        // An answer, even a refusal, shows the receiver is up (a refused address: no attempt).
        if (endpointAnswered(outcome)) this.endpointAnswered(row, nowMs, fields);
        break;
      case "gone": {
        this.circuits.delete(row.endpointId);
        const stopped = this.outbox.markGone(row, outcome.status ?? 410, outcome.error ?? "410 Gone", nowMs);
        this.log.warn(
          "webhook endpoint answered 410 Gone: disabled until the monitor restarts or a redrive; its events are kept as gone",
          { ...fields, rowsStopped: stopped },
        );
        break;
      }
    }
  }

  /** The endpoint answers: if it was failing, every row it holds is due now, oldest first. */
  private endpointAnswered(row: OutboxRow, nowMs: number, fields: LogFields): void {
    if (!this.circuits.delete(row.endpointId)) return;
    const released = this.outbox.releaseEndpoint(row.endpointId, nowMs);
    this.log.info("webhook endpoint delivering again; its held events are sent now", { ...fields, released });
  }

  /**
   * A retryable failure. The first one, or a failed probe, holds every row of the endpoint for
   * the endpoint's next backoff step (or the receiver's Retry-After), and fails the rows past
   * the age limit: they get no attempt of their own while the endpoint fails, the probe stood
   * for them. A row that was in flight when the endpoint started failing just joins the hold.
   * Returns when the endpoint is tried again.
   */
  private endpointFailed(row: OutboxRow, outcome: AttemptOutcome, nowMs: number, fields: LogFields): number {
    const circuit = this.circuits.get(row.endpointId);
    if (circuit && circuit.probe !== rowKey(row)) return circuit.heldUntilMs;
    const { failures, heldUntilMs, delayMs } = holdAfterFailure(
      circuit,
      outcome,
      nowMs,
      this.policy,
      this.random,
    );
    this.circuits.set(row.endpointId, { failures, heldUntilMs });
    const held = this.outbox.holdEndpoint(row.endpointId, heldUntilMs);
    const expired = this.outbox.expireEndpoint(
      row.endpointId,
      expiryCutoffMs(nowMs, this.policy),
      expiredWhileHeld(this.policy, outcome.error),
      nowMs,
    );
    if (expired > 0) {
      this.log.warn("webhook events kept as failed (redrive them with: email-scout webhook redrive)", {
        endpoint: row.endpointId,
        expired,
      });
    }
    if (!circuit) {
      this.log.warn("webhook endpoint failing; its events are held and retried with backoff", {
        ...fields,
        held,
        retryInMs: delayMs,
      });
    }
    return heldUntilMs;
  }
}

function rowKey(row: Pick<OutboxRow, "eventId" | "endpointId">): string {
  return `${row.endpointId}\u0000${row.eventId}`;
}
