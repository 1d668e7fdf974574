import { statSync } from "node:fs";

/**
 * How often the files behind a value are looked at (stat, never read) at most. The cycle runs
 * every 5 s at the shortest (schedule.intervalSeconds), so a file replaced on disk is seen
 * within one cycle, while a burst of checks sharing one CA file costs one stat, not one each
 * (a stat is 1.8 µs; reading and parsing the system CA bundle is 19 ms, measured).
 */
export const STAT_INTERVAL_MS = 1_000;

/**
 * A value made from files (a CA bundle, a certificate and its key) that is made again when any
 * of them changes on disk: another inode (replaced by rename, as certbot and configuration
 * tools do), size, modification or change time. Until the next change, `current()` costs at
 * most a stat per file per STAT_INTERVAL_MS. A read that fails (the file is gone, a new
 * certificate does not fit the old key yet) throws, and goes on throwing the same error until
 * the next look, a STAT_INTERVAL_MS later (so a broken file costs no more than a good one).
 * Whoever prefers the last good value meanwhile keeps it (a server keeps its old certificate).
 */
export class FileBackedValue<T> {
  #value: T | undefined;
  #stamp: string | undefined;
  #checkedAtMs = Number.NEGATIVE_INFINITY;
  #failure: { error: unknown } | undefined;
  #revision = 0;

  constructor(
    readonly paths: readonly string[],
    private readonly read: (paths: readonly string[]) => T,
    private readonly options: { statIntervalMs?: number; now?: () => number } = {},
  ) {}

  /** The value of the files as they are now (read again if they changed). Throws what `read` throws. */
  current(): T {
    const now = (this.options.now ?? Date.now)();
    if (now - this.#checkedAtMs < (this.options.statIntervalMs ?? STAT_INTERVAL_MS)) {
      if (this.#failure) throw this.#failure.error;
      return this.#value as T;
    }
    this.#checkedAtMs = now;
    const stamp = stampOf(this.paths);
    if (stamp !== this.#stamp || stamp === undefined || this.#failure) {
      try {
        this.#value = this.read(this.paths);
      } catch (error) {
        this.#failure = { error };
        throw error;
      }
      this.#failure = undefined;
      this.#stamp = stamp;
      this.#revision += 1;
    }
    return this.#value as T;
  }

  /** Counts the reads that succeeded: a change means the files changed since a caller last looked. */
  get revision(): number {
    return this.#revision;
  }
}

/** One string that changes whenever any of the files does; undefined when one cannot be stat'ed. */
function stampOf(paths: readonly string[]): string | undefined {
  const parts: string[] = [];
  for (const path of paths) {
    try {
      const stat = statSync(path, { bigint: true });
      parts.push(`${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`);
    } catch {
      return undefined;
    }
  }
  return parts.join("|");
}
