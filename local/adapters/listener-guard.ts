import type { Clock } from "../../core/ports/clock.ts";
import type { Logger } from "../../core/ports/logger.ts";
import type { ListenerRefusal } from "../../core/ports/probe-store.ts";

/*
 * What keeps the inbound listener from being starved or flooded by its clients: connections
 * per client and in all, rejected messages per client and minute, and a log of refusals that
 * says each client's refusals once a minute, however many there are.
 */

const MINUTE_MS = 60_000;

/** Rejected messages per client over the last minute (a sliding window of timestamps). */
export class RejectionRate {
  private readonly times = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
  ) {}

  /** One more rejected message from `client`. */
  note(client: string): void {
    // Bounded memory under a flood from many addresses: drop the clients with nothing recent.
    if (this.times.size >= 1024) for (const known of [...this.times.keys()]) this.recent(known);
    const recent = this.recent(client);
    recent.push(this.clock.now());
    this.times.set(client, recent);
  }

  /** True once `client` sent its allowance of rejected messages within the last minute. */
  exceeded(client: string): boolean {
    return this.recent(client).length >= this.perMinute;
  }

  private recent(client: string): number[] {
    const since = this.clock.now() - MINUTE_MS;
    const recent = (this.times.get(client) ?? []).filter((atMs) => atMs > since);
    if (recent.length === 0) this.times.delete(client);
    else this.times.set(client, recent);
    return recent;
  }
}

/** Open sessions per client, with a limit per client and one in all. */
export class ConnectionCount {
  private readonly clientOf = new Map<string, string>();
  private readonly perClient = new Map<string, number>();

  constructor(
    private readonly maxPerClient: number,
    private readonly maxInAll: number,
  ) {}

  /** Takes a slot for the session, or says which limit is full. */
  open(sessionId: string, client: string): "ok" | "client-full" | "all-full" {
    const held = this.perClient.get(client) ?? 0;
    if (held >= this.maxPerClient) return "client-full";
    if (this.clientOf.size >= this.maxInAll) return "all-full";
    this.clientOf.set(sessionId, client);
    this.perClient.set(client, held + 1);
    return "ok";
  }

  /** Frees the session's slot, if it had one. */
  close(sessionId: string): void {
    const client = this.clientOf.get(sessionId);
    if (client === undefined) return;
    this.clientOf.delete(sessionId);
    const held = (this.perClient.get(client) ?? 1) - 1;
    if (held <= 0) this.perClient.delete(client);
    else this.perClient.set(client, held);
  }
}

/**
 * Logs refusals at most once per client and minute: a flood of refusals must not become a
 * flood of log lines. The first refusal of a minute is logged with how many were held back
 * in that client's previous minute.
 */
export class RefusalLog {
  private readonly windows = new Map<string, { startMs: number; held: number }>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  refused(client: string, reason: ListenerRefusal, detail: string): void {
    const now = this.clock.now();
    const window = this.windows.get(client);
    if (window !== undefined && now - window.startMs < MINUTE_MS) {
      window.held += 1;
      return;
    }
    this.forgetOld(now);
    this.windows.set(client, { startMs: now, held: 0 });
    this.log.warn("inbound mail refused", {
      remoteAddress: client,
      reason,
      detail,
      ...(window !== undefined && window.held > 0 ? { refusedBeforeNotLogged: window.held } : {}),
    });
  }

  /** Windows over a minute old carry nothing worth keeping (bounded memory under a wide flood). */
  private forgetOld(now: number): void {
    if (this.windows.size < 1024) return;
    for (const [client, window] of this.windows)
      if (now - window.startMs >= MINUTE_MS) this.windows.delete(client);
  }
}
