import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  firstNameserver,
  ResolverAddressError,
  systemResolverAddress,
} from "../../../../core/dns/resolver-address.ts";

describe("the system resolver", () => {
  it.each([
    ["nameserver 192.0.2.53\nnameserver 192.0.2.54\n", { host: "192.0.2.53", port: 53 }],
    ["# comment\nsearch example.com\n  nameserver 2001:db8::53\n", { host: "2001:db8::53", port: 53 }],
    ["nameserver fe80::1%eth0\n", { host: "fe80::1", port: 53 }],
    ["options edns0\n", undefined],
    ["nameserver dns.example\n", undefined],
  ])("first nameserver of %j", (text, expected) => {
    expect(firstNameserver(text)).toEqual(expected);
  });

  it("reads the file, and says what to do when it names none or cannot be read", () => {
    const dir = mkdtempSync(join(tmpdir(), "scout-resolv-"));
    const good = join(dir, "good.conf");
    writeFileSync(good, "nameserver 127.0.0.53\n");
    expect(systemResolverAddress(good)).toEqual({ host: "127.0.0.53", port: 53 });
    const empty = join(dir, "empty.conf");
    writeFileSync(empty, "search example.com\n");
    expect(() => systemResolverAddress(empty)).toThrow(
      new ResolverAddressError(`${empty} names no nameserver: name a resolver`),
    );
    const missing = join(dir, "missing.conf");
    expect(() => systemResolverAddress(missing)).toThrow(
      new ResolverAddressError(`${missing} is unreadable: name a resolver (IP[:PORT])`),
    );
  });
});
