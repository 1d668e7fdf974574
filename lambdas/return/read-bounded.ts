/** What was read from a stream: at most `maxBytes` of its start, and how long it really was. */
export interface BoundedInput {
  data: Buffer;
  totalBytes: number;
  truncated: boolean;
}

/**
 * Reads a stream to its end but keeps only its first `maxBytes`: the header block is what
 * matters, and a 50 MB message must not cost 50 MB of memory. The rest is read and dropped
 * so the MTA's write side sees the whole message consumed.
 */
export async function readBounded(
  stream: AsyncIterable<Buffer | string>,
  maxBytes: number,
): Promise<BoundedInput> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let totalBytes = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    totalBytes += bytes.length;
    if (keptBytes < maxBytes) {
      // Copy the slice: a view would pin the whole chunk (and its pool) in memory.
      const part = Buffer.from(bytes.subarray(0, maxBytes - keptBytes));
      kept.push(part);
      keptBytes += part.length;
    }
  }
  return { data: Buffer.concat(kept, keptBytes), totalBytes, truncated: totalBytes > keptBytes };
}
