/**
 * The partner webhooks' metrics, on the API's registry: attempts by outcome (and error class),
 * endpoints disabled by reason, lag from an event being logged to a partner's 2xx, and each
 * endpoint's backlog (read from the database at each scrape). Labels are bounded: outcomes and
 * error classes are fixed sets, endpoints are the few an admin registers.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export type AttemptOutcome = "delivered" | "retry" | "given_up" | "gone";

export class PartnerMetrics {
  readonly attempts: Counter<"outcome" | "error_class">;
  readonly disabled: Counter<"reason">;
  readonly lag: Histogram;
  readonly inFlight: Gauge;

  constructor(registry: Registry, backlog: () => Promise<Array<{ endpointId: string; pending: number; unplanned: number }>>) {
    this.attempts = new Counter({
      name: "partner_webhook_attempts_total",
      help: "Delivery attempts to partner endpoints, by outcome (delivered, retry, given_up, gone) and error class (none on success).",
      labelNames: ["outcome", "error_class"] as const,
      registers: [registry],
    });
    this.disabled = new Counter({
      name: "partner_webhook_endpoints_disabled_total",
      help: "Partner endpoints disabled by the dispatcher, by reason (gone: a 410; failing: a delivery gave up with no success since its first attempt).",
      labelNames: ["reason"] as const,
      registers: [registry],
    });
    this.lag = new Histogram({
      name: "partner_webhook_delivery_lag_seconds",
      help: "From an event being written to the log to a partner endpoint acknowledging it (2xx), retries included.",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36_000, 86_400],
      registers: [registry],
    });
    this.inFlight = new Gauge({ name: "partner_webhook_in_flight", help: "Deliveries being sent by this instance now.", registers: [registry] });
    new Gauge({
      name: "partner_webhook_backlog",
      help: "Per enabled partner endpoint: deliveries not yet acknowledged, plus events of its types not yet planned (counted up to 10,000), over every instance.",
      labelNames: ["endpoint"] as const,
      registers: [registry],
      async collect() {
        const rows = await backlog().catch(() => null);
        if (!rows) return;
        this.reset();
        for (const row of rows) this.set({ endpoint: row.endpointId }, row.pending + row.unplanned);
      },
    });
  }
}
