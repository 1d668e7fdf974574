import { z } from "zod";
import { parseEvent } from "./event-shape-error.ts";

/**
 * What CloudFormation sends the function behind the stack's Custom::SesActiveReceiptRuleSet: a
 * Create, Update or Delete request with the resource's properties (strings, as CloudFormation
 * passes every property) and the pre-signed URL the answer goes to. Fields CloudFormation may add
 * later are allowed and ignored.
 */
export const receiptRuleSetRequestSchema = z.object({
  RequestType: z.enum(["Create", "Update", "Delete"]),
  ResponseURL: z.url({ protocol: /^https?$/, error: "must be the pre-signed URL for the response" }),
  StackId: z.string().min(1),
  RequestId: z.string().min(1),
  LogicalResourceId: z.string().min(1),
  ResourceType: z.string().min(1),
  /** Absent on Create: the function names the resource in its answer. */
  PhysicalResourceId: z.string().min(1).optional(),
  ResourceProperties: z.object({
    ServiceToken: z.string().min(1),
    /** The stack's rule set. */
    RuleSetName: z.string().min(1),
    /** The inbound domain and region, for the message when another rule set is active. */
    Domain: z.string().min(1),
    Region: z.string().min(1),
  }),
});

export type ReceiptRuleSetRequest = z.infer<typeof receiptRuleSetRequestSchema>;

export function parseReceiptRuleSetRequest(event: unknown): ReceiptRuleSetRequest {
  return parseEvent(
    receiptRuleSetRequestSchema,
    event,
    "a CloudFormation custom resource request for Custom::SesActiveReceiptRuleSet",
  );
}
