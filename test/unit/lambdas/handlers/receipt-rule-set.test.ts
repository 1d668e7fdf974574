import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  DescribeActiveReceiptRuleSetCommand,
  SESClient,
  SetActiveReceiptRuleSetCommand,
} from "@aws-sdk/client-ses";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createReceiptRuleSetHandler } from "../../../../lambdas/handlers/receipt-rule-set.ts";
import { REGION, useFakeAwsEnvironment } from "../../../support/aws-standins.ts";
import { RecordingLogger } from "../../../support/recording-logger.ts";

useFakeAwsEnvironment();
const ses = mockClient(SESClient);

/** CloudFormation's side: the pre-signed response URL, here a real server that keeps what it is sent. */
interface Answer {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}
const answers: Answer[] = [];
let server: Server;
let responseUrl: string;
beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      answers.push({
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
      });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cfn-response?X-Amz-Signature=abc`;
});
afterAll(() => server.close());
afterEach(() => {
  ses.reset();
  answers.length = 0;
});

const recorded = JSON.parse(
  readFileSync(new URL("../../../fixtures/aws/custom-resource-create.json", import.meta.url), "utf8"),
);
function request(type: "Create" | "Update" | "Delete") {
  return {
    ...recorded,
    RequestType: type,
    ResponseURL: responseUrl,
    ...(type === "Create" ? {} : { PhysicalResourceId: "EmailScout-returns" }),
  };
}
function run(type: "Create" | "Update" | "Delete") {
  const log = new RecordingLogger();
  const handler = createReceiptRuleSetHandler({ ses: new SESClient({ region: REGION }), log });
  return { log, done: handler(request(type)) };
}
const activeSet = (name?: string) =>
  ses.on(DescribeActiveReceiptRuleSetCommand).resolves(name ? { Metadata: { Name: name } } : {});

describe("the receipt rule set custom resource", () => {
  it("activates the stack's set when none is active, and tells CloudFormation so", async () => {
    activeSet(undefined);
    await run("Create").done;
    expect(ses.commandCalls(SetActiveReceiptRuleSetCommand).map((c) => c.args[0].input)).toEqual([
      { RuleSetName: "EmailScout-returns" },
    ]);
    expect(answers).toHaveLength(1);
    const [answer] = answers;
    expect(answer?.method).toBe("PUT");
    expect(answer?.url).toBe("/cfn-response?X-Amz-Signature=abc");
    // A Signature Version 2 URL signs an empty content type: fetch must not add its own.
    expect(answer?.headers["content-type"] ?? "").toBe("");
    expect(answer?.body).toEqual({
      Status: "SUCCESS",
      Reason: 'activated "EmailScout-returns"',
      PhysicalResourceId: "EmailScout-returns",
      StackId: recorded.StackId,
      RequestId: recorded.RequestId,
      LogicalResourceId: recorded.LogicalResourceId,
    });
  });

  it("changes nothing when its set is already active", async () => {
    activeSet("EmailScout-returns");
    await run("Update").done;
    expect(ses.commandCalls(SetActiveReceiptRuleSetCommand)).toHaveLength(0);
    expect(answers[0]?.body).toMatchObject({
      Status: "SUCCESS",
      Reason: "left as it is: ours is already active",
    });
  });

  it("fails the deploy without touching another active set, saying what to do", async () => {
    activeSet("corporate-inbound");
    const { log, done } = run("Create");
    await done;
    expect(ses.commandCalls(SetActiveReceiptRuleSetCommand)).toHaveLength(0);
    expect(answers[0]?.body).toMatchObject({
      Status: "FAILED",
      PhysicalResourceId: "EmailScout-returns",
      Reason: expect.stringMatching(/^SES receipt rule set "corporate-inbound" is active in eu-west-1/),
    });
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        fields: expect.objectContaining({ active: "corporate-inbound", action: "refuse" }),
      }),
    );
  });

  it("on delete, deactivates its set only while it is the active one", async () => {
    activeSet("EmailScout-returns");
    await run("Delete").done;
    expect(ses.commandCalls(SetActiveReceiptRuleSetCommand).map((c) => c.args[0].input)).toEqual([{}]);
    expect(answers[0]?.body).toMatchObject({ Status: "SUCCESS", Reason: 'deactivated "EmailScout-returns"' });

    ses.reset();
    answers.length = 0;
    activeSet("corporate-inbound");
    await run("Delete").done;
    expect(ses.commandCalls(SetActiveReceiptRuleSetCommand)).toHaveLength(0);
    expect(answers[0]?.body).toMatchObject({ Status: "SUCCESS" });
  });

  it("answers FAILED, with SES's message, when SES cannot be asked", async () => {
    ses.on(DescribeActiveReceiptRuleSetCommand).rejects(new Error("Rate exceeded"));
    await run("Create").done;
    expect(answers[0]?.body).toMatchObject({
      Status: "FAILED",
      Reason: "SES refused or did not answer: Rate exceeded",
    });
  });
});
