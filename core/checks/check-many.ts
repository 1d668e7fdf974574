import { mapBounded } from "../basics/map-bounded.ts";
import type { Endpoint } from "./endpoint.ts";
import type { CheckResult } from "./result.ts";
import { type CheckOptions, checkEndpoint } from "./run-check.ts";

export interface CheckRequest {
  readonly endpoint: Endpoint;
  readonly options?: CheckOptions;
}

/**
 * Checks many endpoints with at most `concurrency` in flight. Each check carries its own
 * deadlines, so a hostile endpoint holds one slot until its own deadline and never delays
 * another check's result. Results come back in the order of the requests; `onResult` sees
 * each as soon as it is ready.
 */
export async function checkMany(
  requests: readonly CheckRequest[],
  {
    concurrency = 32,
    onResult,
  }: { concurrency?: number; onResult?: (result: CheckResult, index: number) => void } = {},
): Promise<CheckResult[]> {
  return mapBounded(requests, concurrency, async (request, index) => {
    const result = await checkEndpoint(request.endpoint, request.options);
    onResult?.(result, index);
    return result;
  });
}
