import { describe, expect, it } from "vitest";
import { isLoopbackHostHeader, parseHostHeader } from "../../../../local/dashboard/host-header.ts";

describe("parseHostHeader", () => {
  it.each([
    ["127.0.0.1:8025", { name: "127.0.0.1", port: 8025 }],
    ["LOCALHOST", { name: "localhost" }],
    ["[::1]:8025", { name: "::1", port: 8025 }],
    ["[0:0:0:0:0:0:0:1]", { name: "::1" }],
    ["[::FFFF:127.0.0.1]", { name: "::ffff:7f00:1" }],
    ["mail.example.com:443", { name: "mail.example.com", port: 443 }],
  ])("parses %j", (value, parsed) => {
    expect(parseHostHeader(value)).toEqual(parsed);
  });

  it.each([
    "",
    ":8025",
    "[::1]evil.com",
    "[::1]:",
    "[::1",
    "[evil.com]",
    "a@127.0.0.1",
    "127.0.0.1:8025:1",
    "127.0.0.1:65536",
    "127.0.0.1:0",
    "127.0.0.1/",
    "127.0.0.1 ",
    "127.1",
    "127.000.0.1",
    "256.0.0.1",
    "localhost.",
    "-localhost",
    "local_host",
  ])("refuses %j", (value) => {
    expect(parseHostHeader(value)).toBeUndefined();
  });

  it("refuses a missing header", () => {
    expect(parseHostHeader(undefined)).toBeUndefined();
  });
});

describe("isLoopbackHostHeader", () => {
  it("adds the loopback address the dashboard is bound to, and only a loopback one", () => {
    expect(isLoopbackHostHeader("127.0.0.2:8025", "127.0.0.1")).toBe(false);
    expect(isLoopbackHostHeader("127.0.0.2:8025", "127.0.0.2")).toBe(true);
    expect(isLoopbackHostHeader("[::1]", "::1")).toBe(true);
    expect(isLoopbackHostHeader("192.0.2.10", "192.0.2.10")).toBe(false);
  });
});
