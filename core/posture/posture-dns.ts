import { describeError } from "../basics/describe-error.ts";
import { DnsQueryError } from "../dns/dns-errors.ts";
import type { DnsAnswer, DnsRecordType, DnsResolver } from "../dns/dns-resolver.ts";
import { finding, type PostureFinding } from "./posture-result.ts";

/** A query whose failure is a finding (dns-error, UNKNOWN) rather than a throw. */
export async function ask(
  resolver: DnsResolver,
  name: string,
  type: DnsRecordType,
  findings: PostureFinding[],
): Promise<DnsAnswer | undefined> {
  try {
    return await resolver.query(name, type);
  } catch (error) {
    if (!(error instanceof DnsQueryError)) throw error;
    findings.push(finding("dns-error", describeError(error)));
    return undefined;
  }
}

/** Lower-case, without the root's trailing dot: how names are compared. */
export const normalName = (name: string): string => name.replace(/\.$/, "").toLowerCase();

/** A resolver that asks each (name, type) once per check: SPF walks meet the same names often. */
export function memoized(resolver: DnsResolver): DnsResolver {
  const answers = new Map<string, Promise<DnsAnswer>>();
  return {
    server: resolver.server,
    query(name, type) {
      const key = `${type} ${normalName(name)}`;
      let answer = answers.get(key);
      if (!answer) {
        answer = resolver.query(name, type);
        answers.set(key, answer);
      }
      return answer;
    },
  };
}
