import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3ReturnSource } from "../../../../lambdas/aws/s3-return-source.ts";
import {
  FAKE_CREDENTIALS,
  REGION,
  type S3StandIn,
  startS3rver,
  useFakeAwsEnvironment,
} from "../../../support/aws-standins.ts";

useFakeAwsEnvironment();
let s3: S3StandIn;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.close();
});

async function put(key: string, body: Buffer): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
}

describe("S3ReturnSource on s3rver", () => {
  it("reads a stored message byte for byte, whatever its key holds", async () => {
    // Every byte value, CRLFs included: nothing may be re-encoded on the way.
    const raw = Buffer.concat([
      Buffer.from("Subject: x\r\n\r\n"),
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    ]);
    const key = "returns/abc+def x";
    await put(key, raw);
    const stored = await new S3ReturnSource(s3.client, s3.bucket, 65_536).read(key);
    expect(stored.kind).toBe("mail");
    expect(stored.kind === "mail" && stored.raw.equals(raw)).toBe(true);
  });

  it("does not read a message over the size limit", async () => {
    await put("returns/big", Buffer.alloc(20_000, 0x61));
    expect(await new S3ReturnSource(s3.client, s3.bucket, 16_384).read("returns/big")).toEqual({
      kind: "too-large",
      key: "returns/big",
      bytes: 20_000,
      maxBytes: 16_384,
    });
  });

  it("reports a message that is gone as missing, not as an error", async () => {
    expect(await new S3ReturnSource(s3.client, s3.bucket, 16_384).read("returns/never-stored")).toEqual({
      kind: "missing",
      key: "returns/never-stored",
    });
  });
});

describe("S3ReturnSource refused by S3", () => {
  it("throws AccessDenied (retried, then seen in the DLQ) rather than calling the message missing", async () => {
    // What S3 answers a GetObject when the caller may not read the key, or may not list its
    // prefix and the key is absent.
    const server = createServer((_request, response) => {
      response.writeHead(403, { "content-type": "application/xml" });
      response.end(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>R1</RequestId></Error>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const client = new S3Client({
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        region: REGION,
        credentials: FAKE_CREDENTIALS,
        forcePathStyle: true,
        maxAttempts: 1,
      });
      const read = new S3ReturnSource(client, "scout-returns", 16_384).read("returns/gone");
      await expect(read).rejects.toMatchObject({ name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
    } finally {
      server.close();
    }
  });
});
