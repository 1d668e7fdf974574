import { describe, expect, it } from "vitest";
import { describeTlsa, type TlsaRecord, unusableBecause } from "../../../../core/posture/tlsa-records.ts";

const record = (usage: number, selector: number, matchingType: number, bytes = 32): TlsaRecord => ({
  usage,
  selector,
  matchingType,
  data: "ab".repeat(bytes),
});

describe("which TLSA records an SMTP client may use (RFC 7672 §3.1.3, RFC 7671 §4)", () => {
  it.each([
    [record(3, 1, 1), undefined],
    [record(2, 0, 2, 64), undefined],
    [record(3, 0, 0, 300), undefined],
    [record(0, 1, 1), "usage 0 (PKIX-TA) is unusable for SMTP (RFC 7672 §3.1.3)"],
    [record(1, 0, 1), "usage 1 (PKIX-EE) is unusable for SMTP (RFC 7672 §3.1.3)"],
    [record(4, 1, 1), "usage 4 is unknown"],
    [record(3, 2, 1), "selector 2 is unknown"],
    [record(3, 1, 3), "matching type 3 is unknown"],
    [record(3, 1, 1, 20), "a SHA2-256 digest of 20 bytes, not 32"],
    [record(3, 1, 2, 32), "a SHA2-512 digest of 32 bytes, not 64"],
    [record(3, 1, 0, 0), "no association data"],
  ])("%j: %s", (given, expected) => {
    expect(unusableBecause(given)).toBe(expected);
  });

  it("is described as in a zone file, long data cut after 16 hex digits", () => {
    expect(describeTlsa(record(3, 1, 1))).toBe("3 1 1 abababababababab…");
    expect(describeTlsa(record(3, 1, 0, 4))).toBe("3 1 0 abababab");
  });
});
