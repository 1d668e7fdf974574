/** DynamoDB refused a conditional write because its condition was false: an expected outcome, not a failure. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}
