import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../../core/config/config-error.ts";
import { parseAwsConfigText, parseConfigText } from "../../../../core/config/parse-config.ts";

/** A local config with one fetch-mode target; `fetch` replaces its probe.fetch. */
function local(fetch: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    dataDir: "/var/lib/scout",
    probeKeyFile: "/etc/scout/probe.key",
    inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
    targets: [{ id: "m365", probe: { to: "probe@example.com", fetch } }],
    ...extra,
  });
}

const PASSWORD = {
  url: "imaps://outlook.office365.com",
  user: "probe@example.com",
  passwordFile: "/etc/scout/m365",
};
const OAUTH = {
  url: "imaps://outlook.office365.com",
  user: "probe@example.com",
  oauth: {
    tokenUrl: "https://login.microsoftonline.com/tenant/oauth2/v2.0/token",
    clientId: "app-id",
    clientSecretFile: "/etc/scout/client-secret",
    scope: "https://outlook.office365.com/.default",
  },
};
const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:probe-mailbox";

function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("probe.fetch", () => {
  it("fills its defaults: delete after fetch, poll every 15 s, wait 60 s", () => {
    const config = parseConfigText(local(PASSWORD), "fetch.yaml");
    expect(config.targets[0]?.probe?.fetch).toEqual({
      ...PASSWORD,
      deleteAfterFetch: true,
      pollSeconds: 15,
      waitSeconds: 60,
    });
  });

  it("takes an OAuth client instead of a password", () => {
    expect(parseConfigText(local(OAUTH), "fetch.yaml").targets[0]?.probe?.fetch?.oauth).toEqual(OAUTH.oauth);
  });

  // One invalid fixture per rule, with its exact message.
  it.each([
    [
      "neither password nor OAuth",
      { url: "imaps://h", user: "u" },
      "targets[0].probe.fetch.passwordFile: name exactly one of passwordFile and oauth: how the monitor logs in to the mailbox",
    ],
    [
      "both password and OAuth",
      { ...OAUTH, passwordFile: "/p" },
      "targets[0].probe.fetch.oauth: name exactly one of passwordFile and oauth: how the monitor logs in to the mailbox",
    ],
    [
      "an SMTP URL",
      { ...PASSWORD, url: "smtps://h" },
      "targets[0].probe.fetch.url: must be an imap://, imaps://, pop3:// or pop3s:// URL",
    ],
    [
      "credentials in the URL",
      { ...PASSWORD, url: "imaps://u:p@h" },
      'targets[0].probe.fetch.url: endpoint "imaps://u:p@h": credentials do not belong in the URL (it is logged); use --user with --password-file or --password-env',
    ],
    [
      "a junk folder on POP3",
      { ...PASSWORD, url: "pop3s://h", junkFolder: "Spam" },
      "targets[0].probe.fetch.junkFolder: applies to IMAP only: POP3 sees the inbox alone",
    ],
    [
      "a misspelt key",
      { ...PASSWORD, deleteAfterFetsh: false },
      "targets[0].probe.fetch.deleteAfterFetsh: unknown key",
    ],
    [
      "a token URL that is not HTTP",
      { ...OAUTH, oauth: { ...OAUTH.oauth, tokenUrl: "ftp://x/token" } },
      "targets[0].probe.fetch.oauth.tokenUrl: must be an http:// or https:// URL",
    ],
    [
      "an OAuth client without its secret",
      { ...OAUTH, oauth: { tokenUrl: OAUTH.oauth.tokenUrl, clientId: "a" } },
      "targets[0].probe.fetch.oauth.clientSecretFile: is required",
    ],
    [
      "a poll under a second",
      { ...PASSWORD, pollSeconds: 0.5 },
      "targets[0].probe.fetch.pollSeconds: Too small: expected number to be >=1",
    ],
    [
      "a user with a line break (POP3 USER would carry a second command)",
      { ...PASSWORD, user: "u\r\nDELE 1" },
      "targets[0].probe.fetch.user: must not contain control characters",
    ],
  ])("refuses %s", (_name, fetch, message) => {
    expect(problemsOf(() => parseConfigText(local(fetch), "fetch.yaml"))).toEqual([message]);
  });

  it("refuses a wait longer than the round trip's deadline", () => {
    const text = local(
      { ...PASSWORD, waitSeconds: 120 },
      { roundTrip: { deadlineSeconds: 100, criticalSeconds: 90 } },
    );
    expect(problemsOf(() => parseConfigText(text, "fetch.yaml"))).toEqual([
      "targets[0].probe.fetch.waitSeconds: must not exceed roundTrip.deadlineSeconds (100)",
    ]);
  });

  describe("on AWS", () => {
    const aws = (fetch: Record<string, unknown>) =>
      local(fetch, { outbound: { from: "monitor@scout-returns.example.com" } });

    it("takes Secrets Manager ARNs for the password and the client secret", () => {
      expect(
        problemsOf(() => parseAwsConfigText(aws({ ...PASSWORD, passwordFile: ARN }), "aws.yaml")),
      ).toEqual([]);
      const oauth = { ...OAUTH, oauth: { ...OAUTH.oauth, clientSecretFile: ARN } };
      expect(problemsOf(() => parseAwsConfigText(aws(oauth), "aws.yaml"))).toEqual([]);
    });

    it("refuses file paths, and a wait the prober's run cannot hold", () => {
      expect(problemsOf(() => parseAwsConfigText(aws({ ...OAUTH, waitSeconds: 200 }), "aws.yaml"))).toEqual([
        "targets[0].probe.fetch.waitSeconds: must be at most 180 on AWS: the prober waits inside its 5-minute run, beside the checks; a probe found later is found by the next run",
        "targets[0].probe.fetch.oauth.clientSecretFile: on AWS this must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>), not a file path",
      ]);
      expect(problemsOf(() => parseAwsConfigText(aws(PASSWORD), "aws.yaml"))).toEqual([
        "targets[0].probe.fetch.passwordFile: on AWS this must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>), not a file path",
      ]);
    });
  });
});
