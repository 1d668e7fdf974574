import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatAgo } from "../../../../local/cli/status-board.ts";
import { statusCommand } from "../../../../local/cli/status-command.ts";
import { capturedIo } from "../../../support/captured-io.ts";
import {
  type DashboardFixture,
  FIXTURE_NOW,
  makeDashboardFixture,
} from "../../../support/dashboard-fixture.ts";
import { startFixtureDashboard } from "../../../support/dashboard-server.ts";

let fixture: DashboardFixture;
const clock = { now: () => FIXTURE_NOW };

beforeAll(async () => {
  fixture = await makeDashboardFixture();
});
afterAll(() => fixture?.close());

async function status(args: string[], options: { tty: boolean; env?: NodeJS.ProcessEnv }) {
  const { out, io } = capturedIo(options.env);
  const code = await statusCommand(["--config", fixture.configFile, ...args], io, options.tty, clock);
  return { code, ...out };
}

const PLAIN_BOARD = `mx1 (acme)
  OK       smtp://mx1.example.com       ok            since 3 d ago    checked 30 s ago       0.040 s   cert 80 d
  WARNING  imaps://mx1.example.com      cert-expiring since 2 h ago    checked 30 s ago       0.060 s   cert 12 d
  CRITICAL pop3s://mx1.example.com:995  refused       not tracked yet  checked 30 s ago       0.005 s
  OK       roundtrip                    ok            since 24 h ago   last: returned 2.000 s 90 s ago   receiver: spf pass, dkim pass, dmarc pass, ham: spamassassin -0.1/5
           last 24 h: 24 probes, p50 3.000 s, p95 4.000 s, returned 20, late 1, lost 1, bounced 1, send-failed 1
mx2
  UNKNOWN  submission://mx2.example.com no-check-yet  not tracked yet  no check yet
  UNKNOWN  roundtrip                    no-probe-yet  not tracked yet  no probe yet
           last 24 h: 0 probes, p50 -, p95 -, returned 0, late 0, lost 0, bounced 0, send-failed 0
rejected returns (24 h): token-bad-signature 2, unknown-probe 1
`;

describe("email-scout status on recorded results", () => {
  it("prints the board plain when stdout is not a terminal", async () => {
    const { code, stdout } = await status([], { tty: false });
    expect(code).toBe(0);
    expect(stdout).toBe(PLAIN_BOARD);
  });

  it("colours the status words on a terminal, and keeps them as text", async () => {
    const { stdout } = await status([], { tty: true });
    expect(stdout).toContain("\u001b[31mCRITICAL\u001b[0m pop3s://mx1.example.com:995");
    expect(stdout).toContain("\u001b[33mWARNING \u001b[0m imaps://mx1.example.com");
    expect(stdout).toContain("\u001b[32mOK      \u001b[0m smtp://mx1.example.com");
    expect(stdout).toContain("\u001b[35mUNKNOWN \u001b[0m roundtrip");
    expect(stdout).toContain("\u001b[1mmx1 (acme)\u001b[0m");
    // Without the escape codes it is the plain board, word for word.
    const escapeCodes = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, "g");
    expect(stdout.replace(escapeCodes, "")).toBe(PLAIN_BOARD);
  });

  it("stays plain on a terminal with NO_COLOR set or --no-color, and colours with --color", async () => {
    expect((await status([], { tty: true, env: { NO_COLOR: "1" } })).stdout).toBe(PLAIN_BOARD);
    expect((await status(["--no-color"], { tty: true })).stdout).toBe(PLAIN_BOARD);
    expect((await status([], { tty: true, env: { NO_COLOR: "" } })).stdout).toContain("\u001b[");
    expect((await status(["--color"], { tty: false })).stdout).toContain("\u001b[31mCRITICAL");
  });

  it("prints with --json exactly what the dashboard's /api/status returns", async () => {
    const { stdout } = await status(["--json"], { tty: true });
    expect(stdout).not.toContain("\u001b[");
    const dashboard = await startFixtureDashboard(fixture);
    try {
      const api = await (await fetch(new URL("/api/status", dashboard.url))).json();
      expect(JSON.parse(stdout)).toEqual(api);
    } finally {
      await dashboard.close();
    }
  });

  it("narrows the round-trip summary with --hours", async () => {
    const { stdout } = await status(["--hours", "0.5"], { tty: false });
    // Half an hour back reaches the bounce (22 min), the send failure (11 min) and 15 returns.
    expect(stdout).toContain(
      "last 0.5 h: 17 probes, p50 3.000 s, p95 4.000 s, returned 15, late 0, lost 0, bounced 1, send-failed 1",
    );
    expect(stdout).toContain("rejected returns (0.5 h): none");
  });
});

describe("formatAgo", () => {
  it("picks a readable unit", () => {
    expect(formatAgo(42_000)).toBe("42 s ago");
    expect(formatAgo(17 * 60_000)).toBe("17 min ago");
    expect(formatAgo(5 * 3_600_000)).toBe("5 h ago");
    expect(formatAgo(3 * 86_400_000)).toBe("3 d ago");
  });
});
