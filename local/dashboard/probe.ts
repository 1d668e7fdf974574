import { type Endpoint, parseEndpointUrl } from "../../core/checks/endpoint.ts";
import { CheckConfigError } from "../../core/checks/errors.ts";
import { checkEndpoint } from "../../core/checks/run-check.ts";
import { renderProbeMetrics } from "./probe-metrics.ts";
import type { ProbeModule, ProbeSettings } from "./probe-modules.ts";

/** What /probe answers: the exposition text, or an error the dashboard sends as JSON. */
export type ProbeReply =
  | { readonly status: 200; readonly contentType: string; readonly text: string }
  | { readonly status: number; readonly error: string; readonly headers?: Record<string, string> };

/** Time kept back from Prometheus' scrape timeout for the answer to travel (blackbox keeps 0.5 s too). */
const SCRAPE_TIMEOUT_MARGIN_MS = 500;
const PARAMETERS = ["target", "module"];

/**
 * /probe?target=<endpoint URL>&module=<name>: runs one check now and answers in Prometheus'
 * exposition format, as blackbox_exporter's multi-target pattern does. The work is bounded:
 * at most maxConcurrentChecks at once (the next scrape gets 503 at once instead of queueing
 * behind hostile servers), and each check ends before its scrape times out.
 */
export class PrometheusProbe {
  private running = 0;

  constructor(private readonly settings: ProbeSettings) {}

  async answer(parameters: URLSearchParams, scrapeTimeoutHeader: string | undefined): Promise<ProbeReply> {
    const unknown = [...parameters.keys()].find((key) => !PARAMETERS.includes(key));
    if (unknown !== undefined) return badRequest(`/probe takes target and module, not "${unknown}"`);
    const moduleName = parameters.get("module");
    const module = moduleName === null ? undefined : this.settings.modules.get(moduleName);
    if (!module) {
      const said = moduleName === null ? "no module given" : `unknown module "${moduleName}"`;
      return badRequest(`${said}; configured modules: ${[...this.settings.modules.keys()].join(", ")}`);
    }
    const target = parameters.get("target");
    if (!target) {
      return badRequest(
        "no target given: /probe?target=<endpoint URL, like smtp://mail.example.com>&module=...",
      );
    }
    let endpoint: Endpoint;
    try {
      endpoint = endpointFor(target, module);
    } catch (error) {
      if (error instanceof CheckConfigError || error instanceof ProbeRequestError)
        return { status: error instanceof ProbeRequestError ? error.status : 400, error: error.message };
      throw error;
    }
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeoutMs(module.timeoutMs, scrapeTimeoutHeader);
    } catch (error) {
      if (error instanceof ProbeRequestError) return { status: error.status, error: error.message };
      throw error;
    }
    if (this.running >= this.settings.maxConcurrentChecks) {
      return {
        status: 503,
        error: `/probe is at its limit of ${this.settings.maxConcurrentChecks} checks at once (dashboard.prometheusProbe.maxConcurrentChecks); the next scrape tries again, or raise the limit`,
        headers: { "Retry-After": "1" },
      };
    }
    this.running++;
    try {
      const result = await checkEndpoint(endpoint, { ...module.options, overallTimeoutMs: timeoutMs });
      const metrics = await renderProbeMetrics(result);
      return { status: 200, contentType: metrics.contentType, text: metrics.body };
    } finally {
      this.running--;
    }
  }
}

class ProbeRequestError extends Error {
  override readonly name = "ProbeRequestError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function badRequest(error: string): ProbeReply {
  return { status: 400, error };
}

/** The target's endpoint with the module's STARTTLS policy (unless the URL sets one), if its host is allowed. */
function endpointFor(target: string, module: ProbeModule): Endpoint {
  const endpoint = parseEndpointUrl(target);
  if (module.allowedHosts && !module.allowedHosts.has(endpoint.host.toLowerCase())) {
    throw new ProbeRequestError(
      `module "${module.name}" may check only ${[...module.allowedHosts].join(", ")} (its allowedHosts), not ${endpoint.host}`,
      403,
    );
  }
  const urlSetsStartTls = new URL(target).searchParams.has("starttls");
  if (module.startTls && endpoint.tls === "starttls" && !urlSetsStartTls) {
    return { ...endpoint, startTls: module.startTls };
  }
  return endpoint;
}

/**
 * The module's timeout, or less when Prometheus says its scrape gives up sooner
 * (X-Prometheus-Scrape-Timeout-Seconds): the check must end, and its answer arrive, first.
 */
export function checkTimeoutMs(moduleTimeoutMs: number, header: string | undefined): number {
  if (header === undefined) return moduleTimeoutMs;
  const scrapeMs = Number(header) * 1000;
  if (!Number.isFinite(scrapeMs) || scrapeMs <= 0) {
    throw new ProbeRequestError(
      `X-Prometheus-Scrape-Timeout-Seconds must be a positive number of seconds, not "${header.slice(0, 40)}"`,
      400,
    );
  }
  // A very short scrape timeout keeps half of itself for the check rather than nothing.
  const available = Math.max(scrapeMs - SCRAPE_TIMEOUT_MARGIN_MS, scrapeMs / 2);
  return Math.round(Math.min(moduleTimeoutMs, available));
}
