/**
 * A custom resource's answer to CloudFormation: a JSON document PUT to the request's pre-signed
 * ResponseURL. Until it arrives the stack waits (up to an hour), so every request gets one.
 */

export interface CustomResourceRequestIds {
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
}

export type CustomResourceAnswer =
  | { readonly Status: "SUCCESS"; readonly PhysicalResourceId: string; readonly Reason?: string }
  | { readonly Status: "FAILED"; readonly PhysicalResourceId: string; readonly Reason: string };

/** The response URL refused the answer; the message has its status. */
export class CloudFormationResponseError extends Error {
  override readonly name = "CloudFormationResponseError";
  constructor(
    readonly status: number,
    options?: ErrorOptions,
  ) {
    super(`CloudFormation's response URL answered HTTP ${status} to the custom resource's answer`, options);
  }
}

/** CloudFormation shows at most this much of a Reason; the whole answer must stay under 4 KB. */
const MAX_REASON = 3_000;

export async function answerCloudFormation(
  request: CustomResourceRequestIds,
  answer: CustomResourceAnswer,
): Promise<void> {
  const body = JSON.stringify({
    ...answer,
    ...(answer.Reason !== undefined ? { Reason: answer.Reason.slice(0, MAX_REASON) } : {}),
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
  });
  // The URL may be signed with Signature Version 2, which signs the content type as well: it was
  // signed empty, and S3 refuses the PUT if fetch adds its default text/plain.
  const response = await fetch(request.ResponseURL, {
    method: "PUT",
    body,
    headers: { "content-type": "" },
  });
  if (!response.ok) throw new CloudFormationResponseError(response.status);
}
