import { describe, expect, it } from "vitest";
import { parseAwsConfigText } from "../../../core/config/parse-config.ts";
import { loginPasswordSecretArns } from "../../../lib/config/deploy-config.ts";
import { proberMailPorts } from "../../../lib/config/prober-ports.ts";

const ARN = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}`;

const config = parseAwsConfigText(
  JSON.stringify({
    inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
    outbound: { from: "scout@scout-returns.example.com" },
    targets: [
      {
        id: "dovecot",
        probe: {
          to: "probe@mail.example.net",
          fetch: { url: "imaps://mail.example.net:10993", user: "probe", passwordFile: ARN("dovecot") },
        },
      },
      {
        id: "m365",
        probe: {
          to: "probe@example.com",
          fetch: {
            url: "pop3s://outlook.office365.com",
            user: "probe@example.com",
            oauth: {
              tokenUrl: "https://idp.example.com:8443/token",
              clientId: "app",
              clientSecretFile: ARN("m365"),
            },
          },
        },
      },
    ],
  }),
  "fetch-mode.yaml",
);

describe("the stack's view of fetch-mode targets", () => {
  it("lets the prober out to the mailboxes' ports and a token endpoint off 443", () => {
    expect(proberMailPorts(config)).toEqual([25, 110, 143, 465, 587, 993, 995, 8443, 10993]);
  });

  it("lets the prober read the mailbox passwords and OAuth client secrets", () => {
    expect(loginPasswordSecretArns(config)).toEqual([ARN("dovecot"), ARN("m365")]);
  });
});
