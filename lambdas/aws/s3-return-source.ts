import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from "@aws-sdk/client-s3";

/** One stored inbound message, or why it could not be used. */
export type StoredMail =
  | { readonly kind: "mail"; readonly raw: Buffer; readonly key: string }
  | { readonly kind: "too-large"; readonly key: string; readonly bytes: number; readonly maxBytes: number }
  | { readonly kind: "missing"; readonly key: string };

/**
 * Decodes an object key as S3 event notifications carry it: URL-encoded, with a space
 * written as "+" (so a literal "+" arrives as "%2B").
 */
export function decodeS3EventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}

/**
 * Reads the messages SES stored in the returns bucket. A message over `maxBytes` (the config's
 * inbound.maxBytes) is not read at all: returns and bounces of a probe are a few kB, so a big
 * one is never a measurement, and reading it would only cost memory.
 */
export class S3ReturnSource {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly maxBytes: number,
  ) {}

  /** `key` is the decoded object key (see decodeS3EventKey). */
  async read(key: string): Promise<StoredMail> {
    let response: GetObjectCommandOutput;
    try {
      response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      // Deleted before we came (a lifecycle rule, an operator): nothing to correlate, nothing to retry.
      // S3 says NoSuchKey only to a caller that may list the prefix (the stack grants it); to
      // others a missing key is AccessDenied, which stays an error like every other: retried, seen.
      if ((error as { name?: unknown }).name === "NoSuchKey") return { kind: "missing", key };
      throw error;
    }
    const body = response.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    const declared = response.ContentLength;
    if (declared !== undefined && declared > this.maxBytes) {
      body?.destroy?.();
      return { kind: "too-large", key, bytes: declared, maxBytes: this.maxBytes };
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of body ?? []) {
      bytes += chunk.length;
      // The declared length is not trusted alone: stop reading as soon as the limit is passed.
      if (bytes > this.maxBytes) {
        body?.destroy?.();
        return { kind: "too-large", key, bytes, maxBytes: this.maxBytes };
      }
      chunks.push(Buffer.from(chunk));
    }
    return { kind: "mail", raw: Buffer.concat(chunks), key };
  }
}
