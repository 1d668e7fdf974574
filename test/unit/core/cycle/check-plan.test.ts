import { describe, expect, it } from "vitest";
import { Secret } from "../../../../core/basics/secret.ts";
import { parseConfigText } from "../../../../core/config/parse-config.ts";
import { planChecks } from "../../../../core/cycle/check-plan.ts";

const config = (login: Record<string, unknown>) =>
  parseConfigText(
    JSON.stringify({
      dataDir: "/var/lib/scout",
      probeKeyFile: "/etc/scout/probe.key",
      inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
      targets: [{ id: "mx1", endpoints: [{ url: "pop3s://mx1.example.com", login }] }],
    }),
    "test.yaml",
  );

describe("planChecks: an endpoint's login", () => {
  it("carries the user, the password read once, and the mechanism named (any case)", () => {
    const read: string[] = [];
    const [planned] = planChecks(
      config({ user: "u", passwordFile: "/pw", mechanism: "cram-md5" }),
      (path) => {
        read.push(path);
        return new Secret("p");
      },
    );
    expect(planned?.options.credentials).toMatchObject({ user: "u", mechanism: "CRAM-MD5" });
    expect(planned?.options.credentials?.password.reveal()).toBe("p");
    expect(read).toEqual(["/pw"]);
  });

  it("leaves the choice to the check when no mechanism is named", () => {
    const [planned] = planChecks(config({ user: "u", passwordFile: "/pw" }), () => new Secret("p"));
    expect(planned?.options.credentials).not.toHaveProperty("mechanism");
  });
});

describe("planChecks: the open relay test", () => {
  const withRelayTest = (openRelayTest?: unknown) =>
    parseConfigText(
      JSON.stringify({
        dataDir: "/var/lib/scout",
        probeKeyFile: "/etc/scout/probe.key",
        inbound: { domain: "scout-returns.example.com", returnAddress: "returns@scout-returns.example.com" },
        targets: [{ id: "mx1", endpoints: [{ url: "smtp://mx1.example.com", openRelayTest }] }],
      }),
      "test.yaml",
    );
  const plan = (openRelayTest?: unknown) =>
    planChecks(withRelayTest(openRelayTest), () => new Secret("p"))[0]?.options;

  it("is off unless asked for", () => {
    expect(plan()).not.toHaveProperty("relayTest");
    expect(plan(false)).not.toHaveProperty("relayTest");
  });

  it("true asks with the default outside addresses", () => {
    expect(plan(true)?.relayTest).toEqual({
      sender: "relay-test@example.net",
      recipient: "relay-test@example.com",
    });
  });

  it("takes the addresses given, each falling back to its default", () => {
    expect(plan({ recipient: "nobody@outside.example.org" })?.relayTest).toEqual({
      sender: "relay-test@example.net",
      recipient: "nobody@outside.example.org",
    });
  });
});
