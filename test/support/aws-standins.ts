/*
 * Local stand-ins for the AWS services the Lambdas use: dynalite (DynamoDB) and s3rver (S3),
 * in process on 127.0.0.1 port 0, with the tables and bucket laid out as the stack's contract
 * says. SES and Secrets Manager are replaced with aws-sdk-client-mock in the tests themselves.
 */

import type { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import {
  PROBES_TABLE_DESIGN,
  RESULTS_TABLE_DESIGN,
  WEBHOOK_HOLDS_TABLE_DESIGN,
} from "../../lambdas/aws/table-design.ts";

// Neither package ships type declarations: the little used here is typed at the one place it is loaded.
const require = createRequire(import.meta.url);
const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;
interface S3rverServer extends EventEmitter {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
const S3rver = require("s3rver") as new (options: Record<string, unknown>) => S3rverServer;

export const REGION = "eu-west-1";
export const FAKE_CREDENTIALS = { accessKeyId: "AKIDSTANDIN000000000", secretAccessKey: "standin-secret" };

/** Sets what the SDK reads from the environment to harmless values, so no real account is ever reached. */
export function useFakeAwsEnvironment(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  process.env.AWS_ACCESS_KEY_ID = FAKE_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = FAKE_CREDENTIALS.secretAccessKey;
  process.env.AWS_REGION = REGION;
  delete process.env.AWS_PROFILE;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface DynamoStandIn {
  readonly client: DynamoDBClient;
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<DynamoStandIn> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await listen(server);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: REGION,
    credentials: FAKE_CREDENTIALS,
    maxAttempts: 1,
  });
  return {
    client,
    endpoint,
    close: async () => {
      client.destroy();
      await close(server);
    },
  };
}

let tableCounter = 0;

/** The two tables exactly as the stack's contract defines them; fresh names on every call. */
export async function createScoutTables(
  client: DynamoDBClient,
): Promise<{ probesTable: string; resultsTable: string }> {
  tableCounter += 1;
  const probesTable = `scout-probes-${tableCounter}`;
  const resultsTable = `scout-results-${tableCounter}`;
  // Mutable copies: the SDK's input types do not take the design's readonly arrays.
  const copy = (design: object) => structuredClone(design) as Omit<CreateTableCommandInput, "TableName">;
  await client.send(
    new CreateTableCommand({
      TableName: probesTable,
      BillingMode: "PAY_PER_REQUEST",
      ...copy(PROBES_TABLE_DESIGN),
    }),
  );
  await client.send(
    new CreateTableCommand({
      TableName: resultsTable,
      BillingMode: "PAY_PER_REQUEST",
      ...copy(RESULTS_TABLE_DESIGN),
    }),
  );
  // As with real DynamoDB, a table takes requests once ACTIVE; dynalite gets there on a timer,
  // which a loaded machine may not have run yet when CreateTable answers.
  await Promise.all([untilActive(client, probesTable), untilActive(client, resultsTable)]);
  return { probesTable, resultsTable };
}

/** The notifier's webhook holds table as the stack's contract defines it; a fresh name on every call. */
export async function createWebhookHoldsTable(client: DynamoDBClient): Promise<string> {
  tableCounter += 1;
  const table = `scout-webhook-holds-${tableCounter}`;
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      ...(structuredClone(WEBHOOK_HOLDS_TABLE_DESIGN) as unknown as Omit<
        CreateTableCommandInput,
        "TableName"
      >),
    }),
  );
  await untilActive(client, table);
  return table;
}

async function untilActive(client: DynamoDBClient, table: string, deadlineMs = 30_000): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    if (Table?.TableStatus === "ACTIVE") return;
    if (Date.now() > giveUpAt) throw new Error(`table ${table} not ACTIVE after ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One S3 event notification as s3rver emits it (keys not URL-encoded, a malformed bucket ARN). */
export interface S3rverEvent {
  Records: { s3: { bucket: { name: string; arn?: string }; object: { key: string } } }[];
}

export interface S3StandIn {
  readonly client: S3Client;
  readonly endpoint: string;
  readonly bucket: string;
  /** Resolves with the next notification s3rver emits for `key` (decoded key). */
  nextEvent(key: string, timeoutMs?: number): Promise<S3rverEvent>;
  close(): Promise<void>;
}

export async function startS3rver(bucket = "scout-returns"): Promise<S3StandIn> {
  const directory = mkdtempSync(join(tmpdir(), "scout-s3rver-"));
  const server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    directory,
    silent: true,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: REGION,
    // s3rver checks signatures, against the one key pair it knows.
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    forcePathStyle: true,
    // The SDK's default checksums stream the body with aws-chunked framing, which s3rver
    // stores verbatim: the object would be silently corrupted.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 1,
  });
  return {
    client,
    endpoint,
    bucket,
    nextEvent: (key, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          server.off("event", listener);
          reject(new Error(`s3rver emitted no event for ${key} within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = (event: S3rverEvent) => {
          if (event.Records[0]?.s3.object.key !== key) return;
          clearTimeout(timer);
          server.off("event", listener);
          resolve(event);
        };
        server.on("event", listener);
      }),
    close: async () => {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Encodes a key the way real S3 writes it into event notifications: URL-encoded, "+" for a space, "/" kept. */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, "+").replace(/%2F/gi, "/");
}

/** s3rver's notification made to look like real S3's: keys encoded, the bucket ARN well-formed. */
export function asRealS3Event<T extends S3rverEvent>(event: T): T {
  return {
    ...event,
    Records: event.Records.map((record) => ({
      ...record,
      s3: {
        ...record.s3,
        bucket: { ...record.s3.bucket, arn: `arn:aws:s3:::${record.s3.bucket.name}` },
        object: { ...record.s3.object, key: encodeS3EventKey(record.s3.object.key) },
      },
    })),
  };
}
