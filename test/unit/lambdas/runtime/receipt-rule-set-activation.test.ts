import { describe, expect, it } from "vitest";
import { activationDecision } from "../../../../lambdas/runtime/receipt-rule-set-activation.ts";

const OURS = { ruleSetName: "EmailScout-returns", domain: "scout-returns.example.com", region: "eu-west-1" };

describe("activationDecision", () => {
  it.each([
    ["Create", undefined, { action: "activate" }],
    ["Update", undefined, { action: "activate" }],
    ["Create", "EmailScout-returns", { action: "leave", why: "ours is already active" }],
    ["Update", "EmailScout-returns", { action: "leave", why: "ours is already active" }],
    ["Delete", "EmailScout-returns", { action: "deactivate" }],
    ["Delete", undefined, { action: "leave", why: "no rule set is active" }],
    ["Delete", "corporate-inbound", { action: "leave", why: '"corporate-inbound" is active, not ours' }],
  ] as const)("%s with %s active: %o", (request, active, decision) => {
    expect(activationDecision(request, active, OURS)).toEqual(decision);
  });

  it.each(["Create", "Update"] as const)(
    "%s with another set active: refuses, naming it and both ways out",
    (request) => {
      const decision = activationDecision(request, "corporate-inbound", OURS);
      expect(decision.action).toBe("refuse");
      const reason = decision.action === "refuse" ? decision.reason : "";
      expect(reason).toMatch(
        /^SES receipt rule set "corporate-inbound" is active in eu-west-1, and only one can be/,
      );
      expect(reason).toContain('add a rule for scout-returns.example.com to "corporate-inbound"');
      expect(reason).toContain("set aws.activateReceiptRuleSet: false");
      expect(reason).toContain("aws ses set-active-receipt-rule-set --region eu-west-1");
    },
  );
});
