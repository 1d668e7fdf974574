import { object, oneOf, optional, type ShapeOf, string } from "./event-shape.ts";
import { parseEvent } from "./event-shape-error.ts";

/**
 * What CloudFormation sends the function behind the stack's Custom::SesActiveReceiptRuleSet: a
 * Create, Update or Delete request with the resource's properties (strings, as CloudFormation
 * passes every property) and the pre-signed URL the answer goes to. Fields CloudFormation may add
 * later are allowed and ignored.
 */
export const receiptRuleSetRequestShape = object({
  RequestType: oneOf(["Create", "Update", "Delete"] as const),
  ResponseURL: string({ pattern: /^https?:\/\/\S+$/, error: "must be the pre-signed URL for the response" }),
  StackId: string({ minLength: 1 }),
  RequestId: string({ minLength: 1 }),
  LogicalResourceId: string({ minLength: 1 }),
  ResourceType: string({ minLength: 1 }),
  /** Absent on Create: the function names the resource in its answer. */
  PhysicalResourceId: optional(string({ minLength: 1 })),
  ResourceProperties: object({
    ServiceToken: string({ minLength: 1 }),
    /** The stack's rule set. */
    RuleSetName: string({ minLength: 1 }),
    /** The inbound domain and region, for the message when another rule set is active. */
    Domain: string({ minLength: 1 }),
    Region: string({ minLength: 1 }),
  }),
});

export type ReceiptRuleSetRequest = ShapeOf<typeof receiptRuleSetRequestShape>;

export function parseReceiptRuleSetRequest(event: unknown): ReceiptRuleSetRequest {
  return parseEvent(
    receiptRuleSetRequestShape,
    event,
    "a CloudFormation custom resource request for Custom::SesActiveReceiptRuleSet",
  );
}
