import { readSync } from "node:fs";

/** What was read from a stream: at most `maxBytes` of its start, and how long it really was. */
export interface BoundedInput {
  data: Buffer;
  totalBytes: number;
  truncated: boolean;
}

const CHUNK_BYTES = 64 * 1024;

/**
 * Keeps the first `maxBytes` of what it is given and counts the rest: the header block is
 * what matters, and a 50 MB message must not cost 50 MB of memory.
 */
class BoundedCollector {
  readonly #kept: Buffer[] = [];
  #keptBytes = 0;
  #totalBytes = 0;

  constructor(readonly maxBytes: number) {}

  add(bytes: Uint8Array): void {
    this.#totalBytes += bytes.length;
    if (this.#keptBytes >= this.maxBytes) return;
    // Copy the slice: a view would pin the whole chunk (and its pool) in memory.
    const part = Buffer.from(bytes.subarray(0, this.maxBytes - this.#keptBytes));
    this.#kept.push(part);
    this.#keptBytes += part.length;
  }

  result(): BoundedInput {
    return {
      data: Buffer.concat(this.#kept, this.#keptBytes),
      totalBytes: this.#totalBytes,
      truncated: this.#totalBytes > this.#keptBytes,
    };
  }
}

/**
 * Reads a stream to its end, keeping only its first `maxBytes`. The rest is read and dropped
 * so the MTA's write side sees the whole message consumed.
 */
export async function readBounded(
  stream: AsyncIterable<Buffer | string>,
  maxBytes: number,
  collector = new BoundedCollector(maxBytes),
): Promise<BoundedInput> {
  for await (const chunk of stream) collector.add(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return collector.result();
}

/**
 * Reads a file descriptor (standard input) the same way, with blocking reads: an MTA's pipe is
 * a plain blocking pipe, and touching process.stdin would load Node's stream machinery (~6 ms
 * of email_return's start-up, measured in every round trip). If the descriptor turns out
 * non-blocking (EAGAIN), the rest is read from `whenNonBlocking()` (process.stdin).
 */
export async function readBoundedFd(
  fd: number,
  maxBytes: number,
  whenNonBlocking: () => AsyncIterable<Buffer | string>,
): Promise<BoundedInput> {
  const collector = new BoundedCollector(maxBytes);
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  for (;;) {
    let read: number;
    try {
      read = readSync(fd, chunk, 0, CHUNK_BYTES, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EINTR") continue;
      if (code === "EAGAIN") return readBounded(whenNonBlocking(), maxBytes, collector);
      // No standard input at all (a closed fd 0): an empty message, which decide() ignores.
      if (code === "EBADF") return collector.result();
      throw error;
    }
    if (read === 0) return collector.result();
    collector.add(chunk.subarray(0, read));
  }
}
