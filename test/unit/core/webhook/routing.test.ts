import { describe, expect, it } from "vitest";
import { routeEvent } from "../../../../core/webhook/routing.ts";

const endpoints = [
  { id: "all" },
  { id: "checks-only", events: ["check.completed" as const] },
  { id: "acme", customers: ["acme"] },
  { id: "acme-status", customers: ["acme", "globex"], events: ["status.changed" as const] },
];

describe("routeEvent", () => {
  it.each([
    ["check.completed", "acme", ["all", "checks-only", "acme"]],
    ["check.completed", "default", ["all", "checks-only"]],
    ["status.changed", "globex", ["all", "acme-status"]],
    ["status.changed", "acme", ["all", "acme", "acme-status"]],
    ["roundtrip.completed", "initech", ["all"]],
  ] as const)("sends %s of customer %s to %j", (type, customer, expected) => {
    expect(routeEvent({ type, customer }, endpoints).map((e) => e.id)).toEqual(expected);
  });

  it("sends nothing when no endpoint is configured", () => {
    expect(routeEvent({ type: "webhook.test", customer: "x" }, [])).toEqual([]);
  });
});
