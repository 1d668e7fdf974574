import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prometheusProbeSchema } from "../../../core/config/prometheus-probe-schema.ts";
import { probeSettingsFrom } from "../../../local/dashboard/probe-modules.ts";
import type { Dashboard } from "../../../local/dashboard/start-dashboard.ts";
import { makeTestPki } from "../../support/certs.ts";
import { type DashboardFixture, makeDashboardFixture } from "../../support/dashboard-fixture.ts";
import { startFixtureDashboard } from "../../support/dashboard-server.ts";
import { startFakeImap } from "../../support/fake-mail-servers.ts";
import type { LineServer } from "../../support/line-server.ts";
import { metricNamesIn, seriesNamesIn } from "../../support/promql-metric-names.ts";

/*
 * docs/grafana/email-scout.json reads only what Email Scout exports: every query's metric
 * names are looked up in what a real dashboard serves, /metrics over the fixture's recorded
 * results and a /probe answer from a check of a real (in-process) IMAPS server.
 */
const ROOT = join(import.meta.dirname, "../../..");
const GRAFANA = JSON.parse(
  readFileSync(join(ROOT, "docs/grafana/email-scout.json"), "utf8"),
) as GrafanaDashboard;

/** How a query names the dashboard's data source variable (Grafana's syntax, not a JS template). */
const DATA_SOURCE_UID = ["$", "{DS_PROMETHEUS}"].join("");

interface GrafanaPanel {
  readonly title: string;
  readonly datasource?: unknown;
  readonly targets?: { readonly expr: string; readonly datasource?: unknown }[];
  readonly panels?: GrafanaPanel[];
}
interface GrafanaDashboard {
  readonly panels: GrafanaPanel[];
  readonly templating: {
    readonly list: { name: string; type: string; query?: unknown; datasource?: unknown }[];
  };
}

function allPanels(panels: readonly GrafanaPanel[]): GrafanaPanel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** Every PromQL text in the dashboard: panel queries and query variables, named for the failure message. */
function queries(): { where: string; expression: string }[] {
  const fromPanels = allPanels(GRAFANA.panels).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expression: target.expr })),
  );
  const fromVariables = GRAFANA.templating.list
    .filter((variable) => variable.type === "query")
    .map((variable) => {
      const query = variable.query as string | { query: string };
      return {
        where: `variable $${variable.name}`,
        expression: typeof query === "string" ? query : query.query,
      };
    });
  return [...fromPanels, ...fromVariables];
}

let dir: string;
let fixture: DashboardFixture;
let imaps: LineServer;
let dashboard: Dashboard;
let exported: Set<string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "scout-grafana-"));
  const pki = await makeTestPki();
  writeFileSync(join(dir, "ca.pem"), pki.caPem);
  imaps = await startFakeImap({ implicitTls: pki.valid });
  fixture = await makeDashboardFixture();
  const probe = prometheusProbeSchema.parse({ modules: { mail: { caFile: join(dir, "ca.pem") } } });
  dashboard = await startFixtureDashboard(fixture, {
    probe: probeSettingsFrom(probe, {
      readPassword: (path) => {
        throw new Error(`no module logs in, yet ${path} was read`);
      },
    }),
  });
  const metrics = await (await fetch(new URL("/metrics", dashboard.url))).text();
  const target = encodeURIComponent(`imaps://127.0.0.1:${imaps.port}`);
  const probed = await (await fetch(new URL(`/probe?target=${target}&module=mail`, dashboard.url))).text();
  expect(probed).toMatch(/^probe_success 1$/m);
  exported = new Set([...seriesNamesIn(metrics), ...seriesNamesIn(probed)]);
});
afterAll(async () => {
  await dashboard?.close();
  await imaps?.close();
  fixture?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("docs/grafana/email-scout.json", () => {
  it("names only metrics the dashboard exports, in every query", () => {
    const unknown = queries().flatMap(({ where, expression }) =>
      metricNamesIn(expression)
        .filter((name) => !exported.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it("has the status, RTT, phase, certificate, rejection and /probe panels", () => {
    const used = new Set(queries().flatMap(({ expression }) => metricNamesIn(expression)));
    for (const name of [
      "email_scout_status",
      "email_scout_roundtrip_seconds_bucket",
      "email_scout_check_duration_seconds",
      "email_scout_certificate_days_left",
      "email_scout_returns_rejected_total",
      "probe_success",
      "probe_duration_seconds",
      "probe_ssl_earliest_cert_expiry",
    ])
      expect(used, name).toContain(name);
    const rtt = queries().filter(({ expression }) =>
      expression.includes("email_scout_roundtrip_seconds_bucket"),
    );
    expect(rtt.map(({ expression }) => /histogram_quantile\((0\.\d+),/.exec(expression)?.[1])).toEqual([
      "0.5",
      "0.95",
    ]);
  });

  it("reads every query from the data source variable DS_PROMETHEUS", () => {
    const variable = GRAFANA.templating.list.find((item) => item.name === "DS_PROMETHEUS");
    expect(variable).toMatchObject({ type: "datasource", query: "prometheus" });
    const sources = [
      ...allPanels(GRAFANA.panels).flatMap((panel) => [
        ...(panel.targets ? [panel.datasource] : []),
        ...(panel.targets ?? []).map((target) => target.datasource),
      ]),
      ...GRAFANA.templating.list.filter((item) => item.type === "query").map((item) => item.datasource),
    ];
    expect(sources.length).toBeGreaterThan(10);
    for (const source of sources) expect(source).toEqual({ type: "prometheus", uid: DATA_SOURCE_UID });
  });
});

describe("metricNamesIn", () => {
  it.each([
    ['up{job="x"}', ["up"]],
    [
      'histogram_quantile(0.95, sum by (target, le) (rate(email_scout_roundtrip_seconds_bucket{target=~"$target"}[$__rate_interval])))',
      ["email_scout_roundtrip_seconds_bucket"],
    ],
    ["(probe_ssl_earliest_cert_expiry - time()) / 86400", ["probe_ssl_earliest_cert_expiry"]],
    ["60 * sum without (instance) (rate(a_total[5m] offset 1h)) > bool 1e3", ["a_total"]],
    ["a / on (target) group_left (customer) b", ["a", "b"]],
    ["label_values(email_scout_status, target)", ["email_scout_status"]],
    ['label_values(probe_success{job="p"}, instance)', ["probe_success"]],
  ])("%s reads %j", (expression, names) => {
    expect(metricNamesIn(expression)).toEqual(names);
  });
});
