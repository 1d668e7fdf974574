import { describe, expect, it } from "vitest";
import { parseEndpointUrl } from "../../../../core/checks/endpoint.ts";
import { CheckFailure } from "../../../../core/checks/errors.ts";
import { withPortHint } from "../../../../core/checks/port-hints.ts";

describe("withPortHint: a URL whose kind does not fit its port", () => {
  it.each([
    ["imap://mail.example.com:993", "timeout-greeting", "imaps://mail.example.com:993"],
    ["pop3://mail.example.com:995", "timeout-greeting", "pop3s://mail.example.com:995"],
    ["submission://mail.example.com:465", "timeout-greeting", "smtps://mail.example.com:465"],
    ["imaps://mail.example.com:143", "tls-failed", "imap://mail.example.com:143"],
    ["smtps://mail.example.com:587", "tls-failed", "submission://mail.example.com:587"],
    ["pop3s://[2001:db8::1]:110", "tls-failed", "pop3://[2001:db8::1]:110"],
  ] as const)("%s failing with %s suggests %s", (url, reason, suggested) => {
    const failure = new CheckFailure(reason, "greeting", "what went wrong");
    const hinted = withPortHint(parseEndpointUrl(url), failure);
    expect(hinted.message).toMatch(/^what went wrong; port \d+ usually speaks /);
    expect(hinted.message).toContain(`did you mean ${suggested}?`);
    expect(hinted).toMatchObject({ reason, phase: "greeting" });
  });

  it.each([
    ["imaps://mail.example.com:993", "timeout-greeting"],
    ["imap://mail.example.com:993", "refused"],
    ["imap://mail.example.com:1143", "timeout-greeting"],
    ["imaps://mail.example.com:143", "cert-untrusted"],
  ] as const)("%s failing with %s gets no hint", (url, reason) => {
    const failure = new CheckFailure(reason, "greeting", "what went wrong");
    expect(withPortHint(parseEndpointUrl(url), failure)).toBe(failure);
  });
});
