import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { DEFAULT_METRICS_NAMESPACE } from "../aws/scout-metrics.ts";

/**
 * WebhookDelivered: a 2xx came back. WebhookRetried: a retryable failure, tried again later.
 * WebhookFailed: moved to the events dead-letter queue (expired, rejected, gone, malformed).
 */
export type WebhookMetric = "WebhookDelivered" | "WebhookRetried" | "WebhookFailed";

/*
 * A contract with dashboards and alarms, as in ScoutMetrics: each metric is a Count with the one
 * dimension Endpoint (the endpoint id; "unknown" for a message naming none), and no service
 * dimension.
 */

/**
 * Counts one invocation's deliveries per endpoint and writes them as EMF at `flush()`: one line
 * per endpoint, whatever the batch size. Call flush in a `finally`.
 */
export class NotifierMetrics {
  private counts = new Map<string, Map<WebhookMetric, number>>();

  constructor(
    private readonly namespace = process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE,
  ) {}

  count(metric: WebhookMetric, endpointId: string): void {
    let byMetric = this.counts.get(endpointId);
    if (byMetric === undefined) {
      byMetric = new Map();
      this.counts.set(endpointId, byMetric);
    }
    byMetric.set(metric, (byMetric.get(metric) ?? 0) + 1);
  }

  flush(): void {
    const counts = this.counts;
    this.counts = new Map();
    for (const [endpointId, byMetric] of counts) {
      const metrics = new Metrics({ namespace: this.namespace });
      metrics.clearDefaultDimensions();
      metrics.addDimension("Endpoint", endpointId);
      for (const [name, value] of byMetric) metrics.addMetric(name, MetricUnit.Count, value);
      metrics.publishStoredMetrics();
    }
  }
}
