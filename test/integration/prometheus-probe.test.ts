import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { main } from "../../local/cli/main.ts";
import { capturedIo } from "../support/captured-io.ts";
import { type DemoHost, demoHost } from "../support/demo-host.ts";
import { closedPort } from "../support/line-server.ts";

/*
 * `email-scout serve` with /probe configured, scraped by a real Prometheus (Debian's package,
 * scripts/ensure-prometheus.sh) with the scrape config the README shows, against the demo
 * host's Postfix and Dovecot; the results are read back with PromQL through Prometheus' HTTP API.
 */
const ROOT = join(import.meta.dirname, "../..");
const PROMETHEUS = "/usr/bin/prometheus";
const TSX = join(ROOT, "node_modules/.bin/tsx");
const TOKEN = "prometheus-probe-token-0123456789";
const SCRAPE_SECONDS = 2;

let demo: DemoHost;
let dir: string;
let dashboardHost: string;
const children: { name: string; process: ChildProcess; log: string[] }[] = [];
let prometheusUrl: string;
let downTarget: string;

beforeAll(async () => {
  if (!existsSync(PROMETHEUS)) {
    throw new Error(`${PROMETHEUS} is missing; install it with: sudo bash scripts/ensure-prometheus.sh`);
  }
  demo = demoHost();
  dir = mkdtempSync(join(tmpdir(), "scout-prometheus-"));
  writeFileSync(join(dir, "dashboard.token"), `${TOKEN}\n`, { mode: 0o600 });
  await cli(["key", "new", join(dir, "probe.key")]);
  dashboardHost = `127.0.0.1:${await closedPort()}`;
  writeFileSync(
    join(dir, "scout.yaml"),
    stringify(serveConfig(await closedPort(), Number(dashboardHost.split(":")[1]))),
  );
  start("serve", TSX, [join(ROOT, "bin/email-scout.ts"), "serve", "--config", join(dir, "scout.yaml")]);
  await until("serve's dashboard", async () => {
    const response = await fetch(`http://${dashboardHost}/api/health`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    return response.ok;
  });

  downTarget = `smtp://127.0.0.1:${await closedPort()}`;
  const targets = [`smtp://${demo.host}:25`, `imaps://${demo.host}:993`, downTarget];
  writeFileSync(join(dir, "prometheus.yml"), stringify(scrapeConfig(targets)));
  const port = await closedPort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  start("prometheus", PROMETHEUS, [
    `--config.file=${join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${join(dir, "prometheus")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--log.level=warn",
  ]);
  await until("Prometheus ready", async () => (await fetch(`${prometheusUrl}/-/ready`)).ok);
});

afterAll(async () => {
  for (const child of children.reverse()) {
    if (child.process.pid === undefined || child.process.exitCode !== null) continue;
    const exited = new Promise((resolve) => child.process.once("exit", resolve));
    child.process.kill("SIGTERM");
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<void> {
  const { out, io } = capturedIo();
  const code = await main(args, io);
  if (code !== 0) throw new Error(`email-scout ${args.join(" ")}: exit ${code}\n${out.stdout}${out.stderr}`);
}

/** A child process this test started and ends (by its pid), its output kept for failures. */
function start(name: string, command: string, args: string[]): void {
  const child = spawn(command, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  const log: string[] = [];
  for (const stream of [child.stdout, child.stderr])
    stream?.on("data", (chunk: Buffer) => log.push(chunk.toString()));
  children.push({ name, process: child, log });
}

/** serve checking the demo host's SMTP, its dashboard behind a token, /probe with one module. */
function serveConfig(listenerPort: number, dashboardPort: number) {
  return {
    dataDir: join(dir, "data"),
    probeKeyFile: join(dir, "probe.key"),
    inbound: {
      domain: "scout-returns.test",
      returnAddress: "returns@scout-returns.test",
      listen: { host: "127.0.0.1", port: listenerPort },
    },
    targets: [{ id: "demo", endpoints: [{ url: `smtp://${demo.host}`, caFile: demo.caFile }] }],
    dashboard: {
      port: dashboardPort,
      tokenFile: join(dir, "dashboard.token"),
      prometheusProbe: { modules: { mail: { caFile: demo.caFile } } },
    },
  };
}

/** The README's /probe scrape config, pointed at this test's dashboard, token file and targets. */
function scrapeConfig(targets: string[]) {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((match) => match[1] as string)
    .find((text) => text.includes("job_name: email-scout-probe"));
  if (!block) throw new Error("README.md has no yaml block with job_name: email-scout-probe");
  const config = parse(block) as { scrape_configs: Record<string, unknown>[] };
  const job = config.scrape_configs[0] as {
    authorization: { credentials_file: string };
    static_configs: { targets: string[] }[];
    relabel_configs: { target_label: string; replacement?: string }[];
  } & Record<string, unknown>;
  const addressRule = job.relabel_configs.find((rule) => rule.target_label === "__address__");
  if (!addressRule?.replacement) throw new Error("the README's relabelling sets no __address__");
  addressRule.replacement = dashboardHost;
  job.authorization.credentials_file = join(dir, "dashboard.token");
  job.static_configs = [{ targets }];
  job.scrape_interval = `${SCRAPE_SECONDS}s`;
  job.scrape_timeout = `${SCRAPE_SECONDS}s`;
  // And the dashboard's own /metrics, so the Grafana dashboard's queries have both to read.
  config.scrape_configs.push({
    job_name: "email-scout",
    scrape_interval: `${SCRAPE_SECONDS}s`,
    scrape_timeout: `${SCRAPE_SECONDS}s`,
    authorization: { credentials_file: join(dir, "dashboard.token") },
    static_configs: [{ targets: [dashboardHost] }],
  });
  return config;
}

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

async function query(promql: string): Promise<Sample[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as { status: string; error?: string; data?: { result: Sample[] } };
  if (body.status !== "success") throw new Error(`PromQL ${promql}: ${body.error}`);
  return body.data?.result ?? [];
}

/** The query's one value, once Prometheus has one. */
async function queryValue(promql: string): Promise<number> {
  let found: Sample[] = [];
  await until(`a value for ${promql}`, async () => {
    found = await query(promql);
    return found.length > 0;
  });
  expect(found).toHaveLength(1);
  return Number(found[0]?.value[1]);
}

describe("/probe scraped by Prometheus with the README's relabelling", () => {
  it("scrapes every target through the dashboard, bearer token from credentials_file", async () => {
    await until(
      "three targets up",
      async () => (await query('up{job="email-scout-probe"} == 1')).length === 3,
    );
  });

  it("finds the demo host's SMTP and IMAPS services up", async () => {
    expect(await queryValue(`probe_success{instance="smtp://${demo.host}:25"}`)).toBe(1);
    expect(await queryValue(`probe_success{instance="imaps://${demo.host}:993"}`)).toBe(1);
    expect(await queryValue(`email_scout_probe_info{instance="smtp://${demo.host}:25",reason="ok"}`)).toBe(1);
    expect(await queryValue(`probe_tls_version_info{instance="imaps://${demo.host}:993"}`)).toBe(1);
  });

  it("knows the demo certificate's expiry", async () => {
    const days = await queryValue(
      `floor((probe_ssl_earliest_cert_expiry{instance="imaps://${demo.host}:993"} - time()) / 86400)`,
    );
    expect(Math.abs(days - demo.certDaysLeft)).toBeLessThanOrEqual(1);
  });

  it("finds a closed port down, with its reason", async () => {
    expect(await queryValue(`probe_success{instance="${downTarget}"}`)).toBe(0);
    expect(await queryValue(`email_scout_probe_info{instance="${downTarget}",reason="refused"}`)).toBe(1);
    expect(await queryValue(`email_scout_probe_status{instance="${downTarget}"}`)).toBe(2);
  });
});

describe("docs/grafana/email-scout.json in a real Prometheus", () => {
  const grafana = JSON.parse(readFileSync(join(ROOT, "docs/grafana/email-scout.json"), "utf8")) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  const panelQueries = grafana.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ title: panel.title, expr: target.expr })),
  );

  it.each(panelQueries)("runs $title's query", async ({ expr }) => {
    // The dashboard's variables as "All" would set them.
    const promql = expr.replaceAll("$__rate_interval", "1m").replace(/\$\{?[A-Za-z_]+\}?/g, ".*");
    if (!/\b(rate|increase)\(/.test(promql)) {
      await until(`a result for ${promql}`, async () => (await query(promql)).length > 0);
    } else {
      await query(promql); // parses and runs; a rate needs more samples than this test waits for
    }
  });
});

/** Polls until the condition holds, up to a generous deadline; fails with the children's output. */
async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // not listening yet
    }
    const exited = children.find((child) => child.process.exitCode !== null);
    if (Date.now() > deadline || exited) {
      const logs = children.map((child) => `${child.name}:\n${child.log.join("").slice(-3000)}`).join("\n");
      throw new Error(`${what}: not before the deadline${exited ? ` (${exited.name} exited)` : ""}\n${logs}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
