import { mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dashboard } from "../../local/dashboard/start-dashboard.ts";
import { startDashboard } from "../../local/dashboard/start-dashboard.ts";
import {
  BOUNCED_PROBE,
  type DashboardFixture,
  makeDashboardFixture,
  NEWEST_PROBE,
} from "../support/dashboard-fixture.ts";
import { memoryLogger } from "../support/dashboard-server.ts";

/*
 * The dashboard page in a real browser (Debian's chromium, headless) against recorded
 * results: the board, the charts, a probe's detail, and a screenshot for the docs.
 */
/** The part of a canvas element the test reads (the project's types leave the DOM out). */
interface Canvas2d {
  readonly width: number;
  readonly height: number;
  getContext(
    kind: "2d",
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

const TOKEN = "browser-test-token-0123456789";
let fixture: DashboardFixture;
let dashboard: Dashboard;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  fixture = await makeDashboardFixture();
  dashboard = await startDashboard({
    host: "127.0.0.1",
    port: 0,
    token: TOKEN,
    store: fixture.store,
    statuses: fixture.statuses,
    config: fixture.config,
    clock: fixture.clock,
    log: memoryLogger(),
  });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 60_000,
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, timezoneId: "UTC" });
  page.setDefaultTimeout(30_000);
  // Any script error or CSP violation (an inline style or script) is a failure.
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
  });
  // The token comes in once in the URL and is traded for a cookie; the address bar loses it.
  await page.goto(`${dashboard.url}?token=${TOKEN}`);
  await page.waitForSelector("body[data-loaded=true]");
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  fixture?.close();
});

const row = (target: string, subject: string) =>
  page.locator(`#board tr[data-target="${target}"][data-subject="${subject}"]`);

describe("the dashboard page", () => {
  it("drops the token from the address bar", () => {
    expect(new URL(page.url()).search).toBe("");
  });

  it("shows each subject's status, reason and certificate days left, in words", async () => {
    const smtp = row("mx1", "smtp://mx1.example.com");
    await expect.poll(() => smtp.locator(".status").textContent()).toBe("OK");
    expect(await smtp.locator(".cert").textContent()).toBe("80 days left");
    const imaps = row("mx1", "imaps://mx1.example.com");
    expect(await imaps.locator(".status").textContent()).toBe("WARNING");
    expect(await imaps.locator(".reason").textContent()).toBe("cert-expiring");
    expect(await imaps.locator(".cert").textContent()).toBe("12 days left");
    const pop3s = row("mx1", "pop3s://mx1.example.com:995");
    expect(await pop3s.locator(".status").textContent()).toBe("CRITICAL");
    expect(await pop3s.locator(".reason").textContent()).toBe("refused");
    const roundTrip = row("mx1", "roundtrip");
    expect(await roundTrip.textContent()).toContain("returned 2.00 s");
    expect(await row("mx2", "roundtrip").locator(".reason").textContent()).toBe("no-probe-yet");
    expect(await page.locator("#rejections").textContent()).toBe(
      "Rejected returns (24 h): token-bad-signature 2, unknown-probe 1",
    );
  });

  it("draws the round-trip and check latency charts", async () => {
    const roundTrip = page.locator('#roundtrip-charts .chart[data-target="mx1"]');
    expect(await roundTrip.locator("canvas").count()).toBe(1);
    expect(await roundTrip.locator('[data-role="summary"]').textContent()).toBe(
      "p50 3.00 s · p95 4.00 s · 20 returned · 1 late · 1 lost · 1 bounced · 1 send-failed",
    );
    const legend = await roundTrip.locator(".u-legend").textContent();
    for (const label of ["p50", "p95", "late", "lost", "bounced"]) expect(legend).toContain(label);
    for (const protocol of ["smtp", "imap", "pop3"]) {
      const chart = page.locator(`#check-charts .chart[data-target="mx1"][data-protocol="${protocol}"]`);
      expect(await chart.locator("canvas").count(), protocol).toBe(1);
    }
    // The canvas really has ink on it: some pixel is not blank.
    const inked = await roundTrip.locator("canvas").evaluate((element) => {
      const canvas = element as unknown as Canvas2d;
      const data = canvas.getContext("2d")?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
      for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) return true;
      return false;
    });
    expect(inked).toBe(true);
  });

  it("switches the range to a week", async () => {
    await page.selectOption("#range", "7d");
    await expect
      .poll(() =>
        page.locator('#roundtrip-charts .chart[data-target="mx1"] [data-role="summary"]').textContent(),
      )
      .toContain("20 returned");
    await page.selectOption("#range", "1h");
    await page.waitForSelector("body[data-loaded=true]");
  });

  it("opens a probe's detail from the recent probes table: bounce diagnostics", async () => {
    await page.locator(`#recent-table tr[data-probe="${BOUNCED_PROBE}"] button`).click();
    await expect.poll(() => page.locator("#probe-detail-title").textContent()).toBe(`Probe ${BOUNCED_PROBE}`);
    expect(await page.locator("#bounce-facts").textContent()).toContain("550 5.1.1");
  });

  it("opens the newest probe from the board: hops and remote clock offset; then saves a screenshot", async () => {
    await row("mx1", "roundtrip").locator("button").click();
    await expect.poll(() => page.locator("#probe-detail-title").textContent()).toBe(`Probe ${NEWEST_PROBE}`);
    expect(await page.locator("#hops tbody tr").count()).toBe(2);
    expect(await page.locator("#hops").textContent()).toContain("relay.example.net");
    expect(await page.locator("#probe-detail-body").textContent()).toContain("1.50 s (informational");
    mkdirSync("test-artifacts", { recursive: true });
    await page.screenshot({ path: "test-artifacts/dashboard.png", fullPage: true });
  });

  it("raised no script error and no content-security-policy violation", () => {
    expect(problems).toEqual([]);
  });
});
