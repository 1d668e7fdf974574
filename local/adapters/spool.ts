import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  chmod,
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
} from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { type Clock, systemClock } from "../../core/ports/clock.ts";

/*
 * A durable spool for inbound mail (local mode's stand-in for the S3 bucket). Layout:
 *
 *   <dir>/tmp/<id>/        a message being written; never read, swept when stale
 *   <dir>/incoming/<id>/   message.eml (the bytes as received) + meta.json: waiting to be processed
 *   <dir>/rejected/<id>/   the same, with the reason in meta.json
 *
 * One directory per message, so a single rename(2) of that directory is the commit point:
 * a reader of incoming/ sees a message whole or not at all, never a message without its
 * meta. write() resolves only after both files, their directory and incoming/ are fsync'd,
 * which is what lets the SMTP listener answer 250 only once the message is on disk.
 */

/** The SMTP envelope; `from` is "" for the null sender (bounces). */
export interface SpoolEnvelope {
  from: string;
  to: string[];
}

/** What the receiver knows about a message besides its bytes. */
export interface SpoolMeta {
  envelope: SpoolEnvelope;
  /** When the message reached the monitor (monitor clock): the end of every RTT. */
  receivedAtMs: number;
  remoteAddress?: string;
}

/** The meta as stored. */
export interface StoredMeta extends SpoolMeta {
  id: string;
  size: number;
  rejected?: { reason: string; atMs: number };
}

export interface SpoolEntry {
  id: string;
  meta: StoredMeta;
  raw: Buffer;
}

/** The message was larger than the limit; nothing was kept. */
export class SpoolSizeError extends Error {
  override readonly name = "SpoolSizeError";
  constructor(readonly maxBytes: number) {
    super(`message exceeds the spool limit of ${maxBytes} bytes`);
  }
}

export interface SpoolOptions {
  /** Default limit for write(); 1 MiB. */
  maxBytes?: number;
  /** tmp/ entries older than this are crash leftovers (never acknowledged), removed on open. */
  staleTmpMs?: number;
  clock?: Clock;
}

const ID = /^[0-9]{15}-[0-9a-f]{16}$/;
const MESSAGE = "message.eml";
const META = "meta.json";
const DEFAULT_MAX_BYTES = 1024 * 1024;
const DEFAULT_STALE_TMP_MS = 60 * 60_000;

export class Spool {
  readonly #maxBytes: number;
  readonly #clock: Clock;

  private constructor(
    readonly dir: string,
    options: SpoolOptions,
  ) {
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#clock = options.clock ?? systemClock;
  }

  /** Creates the directories (mode 0700) if needed and sweeps stale tmp/ leftovers. */
  static async open(dir: string, options: SpoolOptions = {}): Promise<Spool> {
    const spool = new Spool(dir, options);
    for (const path of [dir, spool.#path("tmp"), spool.#path("incoming"), spool.#path("rejected")]) {
      await mkdir(path, { recursive: true, mode: 0o700 });
      // mkdir leaves an existing directory's mode alone: mail may hold private data.
      await chmod(path, 0o700);
    }
    await spool.#sweepTmp(options.staleTmpMs ?? DEFAULT_STALE_TMP_MS);
    return spool;
  }

  /**
   * Stores one message durably and returns its id. A stream source is read to its end; over
   * `maxBytes` the write is abandoned (SpoolSizeError), the partial copy deleted and the rest of
   * the stream drained, not destroyed, so an SMTP session can still answer. A `meta` function
   * is called once the message is whole, so it can say when that was.
   */
  async write(
    source: Buffer | Readable,
    meta: SpoolMeta | (() => SpoolMeta),
    options: { maxBytes?: number } = {},
  ): Promise<string> {
    const maxBytes = options.maxBytes ?? this.#maxBytes;
    const suffix = randomBytes(8).toString("hex");
    const work = this.#path("tmp", `part-${suffix}`);
    await mkdir(work, { mode: 0o700 });
    try {
      const size = await writeSynced(join(work, MESSAGE), (handle) =>
        Buffer.isBuffer(source)
          ? writeBuffer(handle, source, maxBytes)
          : copyBounded(source, handle, maxBytes),
      );
      const complete = typeof meta === "function" ? meta() : meta;
      const id = `${String(Math.max(0, Math.trunc(complete.receivedAtMs))).padStart(15, "0")}-${suffix}`;
      const stored: StoredMeta = { ...complete, id, size };
      await writeSynced(join(work, META), (handle) => writeBuffer(handle, metaBytes(stored), Infinity));
      await syncDir(work);
      await rename(work, this.#path("incoming", id));
      await syncDir(this.#path("incoming"));
      return id;
    } catch (error) {
      await rm(work, { recursive: true, force: true });
      throw error;
    }
  }

  /** Ids of the messages waiting in incoming/, oldest first. */
  async pending(): Promise<string[]> {
    return listIds(this.#path("incoming"));
  }

  /** Ids of the rejected messages, oldest first. */
  async rejected(): Promise<string[]> {
    return listIds(this.#path("rejected"));
  }

  /** One message from incoming/ (or rejected/ when `from` says so). */
  async read(id: string, from: "incoming" | "rejected" = "incoming"): Promise<SpoolEntry> {
    const entry = this.#path(from, checkId(id));
    // Sync reads of two small local files (a return is a few KB; maxBytes caps the rest): the
    // async ones cost eight thread-pool round trips per message, and measured, capped the
    // returns the monitor could process per second at about two thirds of this.
    const raw = readFileSync(join(entry, MESSAGE));
    const metaText = readFileSync(join(entry, META), "utf8");
    return { id, raw, meta: JSON.parse(metaText) as StoredMeta };
  }

  /** Deletes a processed message: first moved out of incoming/ in one rename, then removed. */
  async remove(id: string): Promise<void> {
    const doomed = this.#path("tmp", `${checkId(id)}.removed`);
    await rename(this.#path("incoming", id), doomed);
    // No fsync here: if a crash undoes the rename, the message is processed again, and
    // correlation is idempotent (a second return of a probe records nothing). Syncing the
    // folder for every processed return halved the throughput for no safety gained.
    // Its two known files, then the folder: three calls where a recursive rm needs seven.
    await Promise.all([unlink(join(doomed, MESSAGE)), unlink(join(doomed, META))]);
    await rmdir(doomed);
  }

  /** Moves a message to rejected/, with the reason in its meta. */
  async reject(id: string, reason: string): Promise<void> {
    const entry = this.#path("incoming", checkId(id));
    const meta = JSON.parse(await readFile(join(entry, META), "utf8")) as StoredMeta;
    meta.rejected = { reason, atMs: this.#clock.now() };
    // The reason goes in first (atomically, by rename over the old meta), then the entry
    // moves: a crash in between leaves it in incoming/, to be processed and rejected again.
    const next = join(entry, `${META}.next`);
    // A leftover of an earlier try (a crash, a full disk) would make every later one fail.
    await rm(next, { force: true });
    await writeSynced(next, (handle) => writeBuffer(handle, metaBytes(meta), Infinity));
    await rename(next, join(entry, META));
    await syncDir(entry);
    await rename(entry, this.#path("rejected", id));
    await syncDir(this.#path("rejected"));
    await syncDir(this.#path("incoming"));
  }

  /**
   * Retention of rejected/: removes what was received before `cutoffMs`, then the oldest until
   * the rest holds at most `maxBytes`. Rejected mail is kept for a look, not for ever: a client
   * sending junk would otherwise fill the disk.
   */
  async pruneRejected(cutoffMs: number, maxBytes: number): Promise<{ removed: number; bytes: number }> {
    const entries: { id: string; bytes: number }[] = [];
    for (const id of await this.rejected()) {
      const [message = 0, meta = 0] = await Promise.all(
        [MESSAGE, META].map((name) =>
          stat(this.#path("rejected", id, name)).then(
            (info) => info.size,
            () => 0,
          ),
        ),
      );
      entries.push({ id, bytes: message + meta });
    }
    let total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    let removed = 0;
    let freed = 0;
    // Oldest first (ids start with the receive time): the too old go, then the oldest over the cap.
    for (const { id, bytes } of entries) {
      if (receivedAtOf(id) >= cutoffMs && total <= maxBytes) break;
      await rm(this.#path("rejected", id), { recursive: true, force: true });
      total -= bytes;
      freed += bytes;
      removed += 1;
    }
    return { removed, bytes: freed };
  }

  #path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  async #sweepTmp(staleMs: number): Promise<void> {
    const tmp = this.#path("tmp");
    const cutoff = this.#clock.now() - staleMs;
    for (const name of await readdir(tmp)) {
      const path = join(tmp, name);
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined && info.mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
    }
  }
}

function checkId(id: string): string {
  // Ids become path components: nothing else may reach join().
  if (!ID.test(id)) throw new RangeError(`not a spool id: ${JSON.stringify(id)}`);
  return id;
}

/** The receive time an id starts with. */
function receivedAtOf(id: string): number {
  return Number(id.slice(0, 15));
}

async function listIds(dir: string): Promise<string[]> {
  // Ids start with the zero-padded receive time, so name order is time order.
  return (await readdir(dir)).filter((name) => ID.test(name)).sort();
}

function metaBytes(meta: StoredMeta): Buffer {
  return Buffer.from(`${JSON.stringify(meta, null, 2)}\n`, "utf8");
}

/** Creates `path` (mode 0600, must not exist), fills it, fsyncs and closes it. */
async function writeSynced(path: string, fill: (handle: FileHandle) => Promise<number>): Promise<number> {
  const handle = await open(path, "wx", 0o600);
  try {
    const size = await fill(handle);
    await handle.sync();
    return size;
  } finally {
    await handle.close();
  }
}

async function writeBuffer(handle: FileHandle, data: Buffer, maxBytes: number): Promise<number> {
  if (data.length > maxBytes) throw new SpoolSizeError(maxBytes);
  await handle.write(data);
  return data.length;
}

async function syncDir(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Copies a stream into a file one chunk at a time (paused while each write is in flight), and
 * gives up at `maxBytes`. The source is never destroyed: on giving up it is drained instead.
 */
function copyBounded(source: Readable, handle: FileHandle, maxBytes: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let bytes = 0;
    let settled = false;
    let lastWrite: Promise<void> = Promise.resolve();
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      source.off("data", onData);
      source.off("end", onEnd);
      source.off("error", onError);
      source.off("close", onClose);
      if (error === undefined) {
        resolve(bytes);
      } else {
        if (!source.destroyed) source.resume();
        reject(error);
      }
    };
    const onData = (chunk: Buffer | string) => {
      const data = typeof chunk === "string" ? Buffer.from(chunk, "latin1") : chunk;
      bytes += data.length;
      if (bytes > maxBytes) return settle(new SpoolSizeError(maxBytes));
      source.pause();
      lastWrite = handle.write(data).then(
        () => {
          if (!settled) source.resume();
        },
        (error: unknown) => settle(error),
      );
    };
    const onEnd = () => {
      lastWrite.then(() => settle());
    };
    const onError = (error: unknown) => settle(error);
    const onClose = () => {
      // A source destroyed without an error (a dropped SMTP connection) never ends.
      if (!source.readableEnded) settle(new Error("the message stream closed before its end"));
    };
    // The file was opened asynchronously: the source may have broken off in the meantime.
    if (source.destroyed) {
      reject(source.errored ?? new Error("the message stream closed before its end"));
      return;
    }
    source.on("data", onData);
    source.on("end", onEnd);
    source.on("error", onError);
    source.on("close", onClose);
  });
}
