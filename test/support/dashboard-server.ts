import type { Registry } from "prom-client";
import type { Logger } from "../../core/ports/logger.ts";
import type { TlsIdentityFiles } from "../../local/adapters/tls-identity-files.ts";
import type { ProbeSettings } from "../../local/dashboard/probe-modules.ts";
import { type Dashboard, startDashboard } from "../../local/dashboard/start-dashboard.ts";
import type { DashboardFixture } from "./dashboard-fixture.ts";

/** A logger that keeps its lines, so tests can check that no token is ever logged. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string, fields?: object) =>
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, info: keep("info"), warn: keep("warn"), error: keep("error") };
}

/** The fixture's dashboard on 127.0.0.1, port 0. */
export function startFixtureDashboard(
  fixture: DashboardFixture,
  extra: {
    token?: string;
    host?: string;
    log?: Logger;
    processMetrics?: Registry;
    tls?: { cert: string; key: string; follow?: TlsIdentityFiles };
    probe?: ProbeSettings;
  } = {},
): Promise<Dashboard> {
  return startDashboard({
    host: extra.host ?? "127.0.0.1",
    port: 0,
    ...(extra.token ? { token: extra.token } : {}),
    ...(extra.tls ? { tls: extra.tls } : {}),
    store: fixture.store,
    statuses: fixture.statuses,
    config: fixture.config,
    clock: fixture.clock,
    log: extra.log ?? memoryLogger(),
    ...(extra.processMetrics ? { processMetrics: extra.processMetrics } : {}),
    ...(extra.probe ? { probe: extra.probe } : {}),
  });
}
