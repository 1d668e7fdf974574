import { statSync } from "node:fs";

/**
 * How often the files behind a value are looked at (stat, never read) at most. The cycle runs
 * every 5 s at the shortest (schedule.intervalSeconds), so a file replaced on disk is seen
 * within one cycle, while a burst of checks sharing one CA file costs one stat, not one each
 * (a stat is ~2 µs; reading and parsing a CA bundle is milliseconds).
 */
export const STAT_INTERVAL_MS = 1_000;

/**
 * A value made from files (a CA bundle, a certificate and its key) that is made again when any
 * of them changes on disk: another inode (replaced by rename, as certbot and configuration
 * tools do), size, modification or change time. Until the next change, `current()` costs at
 * most a stat per file per STAT_INTERVAL_MS. A read that fails (the file is gone, a new
 * certificate does not fit the old key yet) throws and keeps nothing: the next `current()`
 * tries again, and the last good value stays available as `lastGood` to whoever prefers it.
 */
export class FileBackedValue<T> {
  #value: T | undefined;
  #stamp: string | undefined;
  #checkedAtMs = Number.NEGATIVE_INFINITY;
  #revision = 0;

  constructor(
    readonly paths: readonly string[],
    private readonly read: (paths: readonly string[]) => T,
    private readonly options: { statIntervalMs?: number; now?: () => number } = {},
  ) {}

  /** The value of the files as they are now (read again if they changed). Throws what `read` throws. */
  current(): T {
    const now = (this.options.now ?? Date.now)();
    if (
      this.#stamp !== undefined &&
      now - this.#checkedAtMs < (this.options.statIntervalMs ?? STAT_INTERVAL_MS)
    )
      return this.#value as T;
    const stamp = stampOf(this.paths);
    if (stamp !== this.#stamp || stamp === undefined) {
      const value = this.read(this.paths);
      this.#value = value;
      this.#stamp = stamp;
      this.#revision += 1;
    }
    this.#checkedAtMs = now;
    return this.#value as T;
  }

  /** The value last read successfully, if any; never touches the disk. */
  get lastGood(): T | undefined {
    return this.#value;
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
