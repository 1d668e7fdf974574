import { randomInt } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { parseEndpointUrl } from "../../core/checks/endpoint.ts";
import { DEFAULT_RELAY_TEST, relayTestFrom } from "../../core/checks/open-relay.ts";
import { checkEndpoint } from "../../core/checks/run-check.ts";
import { type DemoHost, demoHost } from "../support/demo-host.ts";

/*
 * The open relay test against the demo host's real Postfix (scripts/demo-mailhost.sh). Its
 * smtpd_relay_restrictions are "permit_mynetworks permit_sasl_authenticated
 * reject_unauth_destination" with mynetworks = 127.0.0.0/8 (and [::1]/128): a client on
 * loopback is trusted to relay, as Postfix's default trusts its own host. What it may relay
 * to is another matter: default_transport and relay_transport are "error:demo host relays
 * nowhere", so an outside domain without a transport_maps route is refused at RCPT time with
 * 550 5.1.1, and a routed one (scout-test.test -> 127.0.0.1:2526) is accepted.
 */

const POSTFIX_LOG = "/var/log/postfix-demo.log";
const LOG_DEADLINE_MS = 15_000;

let demo: DemoHost;
beforeAll(() => {
  demo = demoHost();
});

/** A loopback address of its own for each check, so its lines in Postfix's log are its own. */
function loopbackSource(): string {
  return `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}

/** Postfix's summary of the session from `source`: "disconnect from unknown[ADDR] ehlo=2 ... commands=N". */
async function sessionSummary(source: string, fromByte: number): Promise<string> {
  const pattern = new RegExp(`disconnect from \\S+\\[${source.replaceAll(".", "\\.")}\\] (.*)$`, "m");
  const deadline = Date.now() + LOG_DEADLINE_MS;
  for (;;) {
    const match = pattern.exec(readFileSync(POSTFIX_LOG).subarray(fromByte).toString("utf8"));
    if (match?.[1]) return match[1];
    if (Date.now() > deadline)
      throw new Error(`Postfix logged no disconnect from ${source} in ${POSTFIX_LOG}`);
    await sleep(100); // polling a file another process writes, under a deadline
  }
}

async function relayCheck(kind: "smtp" | "submission" | "smtps", recipient?: string) {
  const source = loopbackSource();
  const logStart = statSync(POSTFIX_LOG).size;
  const result = await checkEndpoint(parseEndpointUrl(`${kind}://${demo.host}`), {
    caFile: demo.caFile,
    sourceAddress: source,
    relayTest: relayTestFrom(recipient ? { recipient } : {}),
  });
  return { result, summary: await sessionSummary(source, logStart) };
}

describe.each(["smtp", "submission", "smtps"] as const)(
  "the open relay test on the demo host's %s",
  (kind) => {
    it("is refused for the default outside recipient: the host routes nowhere (550 5.1.1), so OK", async () => {
      const { result, summary } = await relayCheck(kind);
      expect(result).toMatchObject({ status: "OK", reason: "ok", openRelay: "refused", quit: "ok" });
      expect(result.relayTest).toEqual({
        ...DEFAULT_RELAY_TEST,
        outcome: "refused",
        reply: "550 5.1.1 <relay-test@example.com>: Recipient address rejected: demo host relays nowhere",
      });
      // MAIL and RCPT (refused), then RSET: no DATA in Postfix's own count of the session.
      expect(summary).toMatch(/ mail=1 rcpt=0\/1 rset=1 quit=1 /);
      expect(summary).not.toContain("data=");
    });

    it("is accepted for a routed outside domain from loopback (mynetworks): CRITICAL open-relay, and no DATA", async () => {
      // A real finding for this client: Postfix relays for anything in mynetworks, and
      // scout-test.test is not a domain of this host. From outside 127.0.0.0/8 the same RCPT TO
      // would meet reject_unauth_destination.
      const { result, summary } = await relayCheck(kind, "relay-test@scout-test.test");
      expect(result).toMatchObject({
        status: "CRITICAL",
        reason: "open-relay",
        openRelay: "accepted",
        quit: "ok",
      });
      expect(result.relayTest?.reply).toBe("250 2.1.5 Ok");
      expect(result.message).toContain("RCPT TO:<relay-test@scout-test.test> without login");
      expect(summary).toMatch(/ mail=1 rcpt=1 rset=1 quit=1 /);
      expect(summary).not.toContain("data=");
    });
  },
);
