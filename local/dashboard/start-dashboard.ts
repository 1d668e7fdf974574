import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { isLoopbackHost, type ScoutConfig } from "../../core/config/schema.ts";
import { type Clock, systemClock } from "../../core/ports/clock.ts";
import type { Logger } from "../../core/ports/logger.ts";
import type { StatusStore } from "../../core/ports/status-store.ts";
import type { SqliteStore } from "../adapters/sqlite-store.ts";
import { followIdentityFiles, type TlsIdentityFiles } from "../adapters/tls-identity-files.ts";
import { type ApiContext, handleApi } from "./api.ts";
import { presentedToken, tokenCookie, tokenMatches } from "./auth.ts";
import { isLoopbackHostHeader } from "./host-header.ts";
import { renderMetrics } from "./metrics.ts";
import { PrometheusProbe } from "./probe.ts";
import type { ProbeSettings } from "./probe-modules.ts";
import { loadAssets } from "./static-assets.ts";

export interface DashboardOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Required when host is not loopback. Never logged. */
  readonly token?: string;
  /**
   * Serve HTTPS with this certificate and key (PEM); the token cookie is then Secure. With
   * `follow`, a certificate renewed on disk is served from the next connection on.
   */
  readonly tls?: { readonly cert: string; readonly key: string; readonly follow?: TlsIdentityFiles };
  readonly store: SqliteStore;
  readonly statuses: StatusStore;
  readonly config: ScoutConfig;
  readonly clock?: Clock;
  readonly log: Logger;
  /** The serving process's own metrics (prom-client), appended to /metrics. */
  readonly processMetrics?: Registry;
  /** Serves /probe (one check per scrape) with these modules; /probe is 404 without them. */
  readonly probe?: ProbeSettings;
}

export interface Dashboard {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Refusing to start: the message says what to change. */
export class DashboardConfigError extends Error {
  override readonly name = "DashboardConfigError";
}

/** Bigger URLs than this are refused: the API's parameters are short. */
const MAX_URL_LENGTH = 2048;
const SECURITY_HEADERS = {
  // No inline script or style anywhere on the page: every file comes from this server.
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/**
 * Starts the local dashboard: the page, its JSON API and /metrics, read-only. Without a
 * token it binds only to loopback; with one, every request must carry it.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  if (!isLoopbackHost(options.host) && !options.token) {
    throw new DashboardConfigError(
      `dashboard: refusing to listen on ${options.host} without a token; set dashboard.tokenFile, or set dashboard.host to 127.0.0.1`,
    );
  }
  if (options.token !== undefined && !/^\S{16,}$/.test(options.token)) {
    throw new DashboardConfigError(
      "dashboard: the token must be at least 16 characters without spaces; make one with: openssl rand -hex 32",
    );
  }
  if (!isLoopbackHost(options.host) && !options.tls) {
    options.log.warn(
      "dashboard serves plain HTTP beyond loopback: the token crosses the network in clear; set dashboard.tls or put a TLS proxy in front",
      { host: options.host },
    );
  }
  const assets = loadAssets();
  const context: ApiContext = {
    config: options.config,
    store: options.store,
    statuses: options.statuses,
    clock: options.clock ?? systemClock,
  };

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    serve(request, response).catch((error: unknown) => {
      options.log.error("dashboard request failed", { path: pathOf(request), error: String(error) });
      if (!response.headersSent)
        send(request, response, 500, { error: "internal error; see the monitor's log" });
      else response.destroy();
    });
  };
  const probe = options.probe ? new PrometheusProbe(options.probe) : undefined;
  const limits = { maxHeaderSize: 8192, headersTimeout: 10_000, requestTimeout: 15_000 };
  const server = options.tls
    ? createHttpsServer({ ...limits, cert: options.tls.cert, key: options.tls.key }, handle)
    : createServer(limits, handle);
  if (options.tls?.follow && server instanceof HttpsServer) followIdentityFiles(server, options.tls.follow);
  server.keepAliveTimeout = 5_000;
  server.maxRequestsPerSocket = 1000;

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("Allow", "GET, HEAD");
      return send(request, response, 405, {
        error: `method ${request.method} not allowed; the dashboard is read-only (GET, HEAD)`,
      });
    }
    if ((request.url ?? "").length > MAX_URL_LENGTH) {
      return send(request, response, 414, { error: `URL longer than ${MAX_URL_LENGTH} characters` });
    }
    const url = new URL(request.url ?? "/", "http://dashboard.invalid");
    if (options.token === undefined && !isLoopbackHostHeader(request.headers.host, options.host)) {
      // Without a token, only loopback names: a web page that rebinds its own DNS name to
      // 127.0.0.1 must not be able to read the board through the browser (DNS rebinding).
      return send(request, response, 421, {
        error:
          "this dashboard answers only to localhost, 127.0.0.1 or [::1] (set a token to serve other names)",
      });
    }
    if (options.token !== undefined) {
      const fromQuery = url.pathname === "/" ? url.searchParams.get("token") : null;
      if (fromQuery !== null && tokenMatches(fromQuery, options.token)) {
        // Trade the token in the URL for a cookie, and drop it from the address bar and history.
        response.setHeader("Set-Cookie", tokenCookie(options.token, { secure: options.tls !== undefined }));
        response.setHeader("Location", "/");
        return send(request, response, 303, { redirect: "/" });
      }
      const presented = presentedToken(request);
      if (presented === undefined || !tokenMatches(presented, options.token)) {
        response.setHeader("WWW-Authenticate", 'Bearer realm="email-scout"');
        return send(request, response, 401, {
          error:
            "a token is required: send Authorization: Bearer <token>, or open the page once as /?token=<token>",
        });
      }
    }
    const asset = assets.get(url.pathname);
    if (asset) {
      if (url.pathname !== "/" && url.search)
        return send(request, response, 400, { error: "static files take no parameters" });
      response.writeHead(200, {
        ...SECURITY_HEADERS,
        "Content-Type": asset.contentType,
        "Content-Length": asset.body.length,
        "Cache-Control": "no-cache",
      });
      response.end(request.method === "HEAD" ? undefined : asset.body);
      return;
    }
    if (url.pathname === "/metrics") {
      if (url.search) return send(request, response, 400, { error: "/metrics takes no parameters" });
      const metrics = await renderMetrics(context, context.clock.now(), options.processMetrics);
      return sendText(request, response, 200, metrics.contentType, metrics.body);
    }
    if (url.pathname === "/probe") {
      if (!probe) {
        return send(request, response, 404, {
          error: "/probe is off: configure its modules under dashboard.prometheusProbe (see README)",
        });
      }
      const header = request.headers["x-prometheus-scrape-timeout-seconds"];
      const reply = await probe.answer(url.searchParams, Array.isArray(header) ? header[0] : header);
      if ("text" in reply) return sendText(request, response, 200, reply.contentType, reply.text);
      for (const [name, value] of Object.entries(reply.headers ?? {})) response.setHeader(name, value);
      return send(request, response, reply.status, { error: reply.error });
    }
    if (url.pathname.startsWith("/api/")) {
      const reply = await handleApi(context, url.pathname, url.searchParams);
      if (reply) return send(request, response, reply.status, reply.body);
    }
    return send(request, response, 404, {
      error: `no such page or API route: ${url.pathname}; see docs/dashboard.md`,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host =
    options.host.includes(":") && !options.host.startsWith("[") ? `[${options.host}]` : options.host;
  const url = `${options.tls ? "https" : "http"}://${host}:${port}/`;
  options.log.info("dashboard ready", { url, token: options.token ? "required" : "none (loopback only)" });
  return {
    port,
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function pathOf(request: IncomingMessage): string {
  return (request.url ?? "").split("?")[0] ?? "";
}

function send(request: IncomingMessage, response: ServerResponse, status: number, body: unknown): void {
  sendText(request, response, status, "application/json; charset=utf-8", `${JSON.stringify(body)}\n`);
}

function sendText(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  contentType: string,
  text: string,
): void {
  const body = Buffer.from(text);
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    "Content-Type": contentType,
    "Content-Length": body.length,
    "Cache-Control": "no-store",
  });
  response.end(request.method === "HEAD" ? undefined : body);
}
