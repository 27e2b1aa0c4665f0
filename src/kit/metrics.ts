/**
 * Prometheus metrics (prom-client), one registry per running API so that several instances
 * in one process (tests) do not collide. Label values are bounded: operation names and
 * webhook types outside a known or capped set are reported as "other".
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

const MAX_OPERATION_NAMES = 200;

export class Metrics {
  readonly registry = new Registry();
  readonly graphqlDuration = new Histogram({
    name: "graphql_request_duration_seconds",
    help: "GraphQL HTTP request duration by operation name and outcome (ok | error).",
    labelNames: ["operation", "outcome"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly graphqlExecutions = new Counter({
    name: "graphql_executions_total",
    help: "GraphQL HTTP operations executed, by executor (compiled: graphql-jit; graphql-js: first sight of a document, or not compilable).",
    labelNames: ["executor"] as const,
    registers: [this.registry],
  });
  readonly graphqlEventExecutions = new Counter({
    name: "graphql_event_executions_total",
    help: "Subscription events executed (once per distinct document, variables and rights, however many subscribers share the result), by executor (compiled: graphql-jit; graphql-js: a document's first event, or not compilable).",
    labelNames: ["executor"] as const,
    registers: [this.registry],
  });
  readonly webhooks = new Counter({
    name: "hms_webhooks_total",
    help: "100ms webhooks received, by event type and outcome (applied, ignored, unknown_room, invalid_data, failed, duplicate, rejected).",
    labelNames: ["type", "outcome"] as const,
    registers: [this.registry],
  });
  readonly webhookBatchSize = new Histogram({
    name: "hms_webhook_batch_size",
    help: "Webhooks applied per batch (one transaction) by the webhook queue.",
    buckets: [1, 2, 5, 10, 25, 50, 100, 200],
    registers: [this.registry],
  });
  readonly subscriptions = new Gauge({
    name: "graphql_active_subscriptions",
    help: "GraphQL subscriptions open now.",
    registers: [this.registry],
  });
  readonly deliveryLag = new Histogram({
    name: "event_delivery_lag_seconds",
    help: "From an event being written to the log to its frame being sent to a subscriber.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly slowConsumers = new Counter({
    name: "stream_slow_consumers_total",
    help: "Subscriber sockets cut for leaving more than STREAM_MAX_BUFFERED_BYTES unread, by transport (graphql-ws, legacy, sse).",
    labelNames: ["transport"] as const,
    registers: [this.registry],
  });
  readonly hmsCalls = new Counter({
    name: "hms_api_calls_total",
    help: "100ms REST calls by endpoint and HTTP status (0 = no response).",
    labelNames: ["endpoint", "status"] as const,
    registers: [this.registry],
  });
  readonly reconcileCorrections = new Counter({
    name: "reconciliation_corrections_total",
    help: "Presence facts the reconciler corrected from 100ms's active peers (missed joins and leaves).",
    registers: [this.registry],
  });
  readonly auditWriteFailures = new Counter({
    name: "audit_write_failures_total",
    help: "Failed background audit writes (each logged and retried).",
    registers: [this.registry],
  });
  readonly #operations = new Set<string>();
  /** Set by the HTTP server once it exists. */
  openSockets: () => number = () => 0;
  /** Set by the HTTP server once it exists. */
  openStreams: () => number = () => 0;
  /** Set once the webhook queue exists. */
  queuedWebhooks: () => number = () => 0;
  /** Set once the inbox exists: read from the database at each scrape (one statement). */
  inboxHealth: () => Promise<{ oldestUnappliedSeconds: number; deadLetters: number }> = async () => ({ oldestUnappliedSeconds: 0, deadLetters: 0 });
  #health: Promise<{ oldestUnappliedSeconds: number; deadLetters: number }> | null = null;

  constructor() {
    const metrics = this;
    new Gauge({
      name: "websocket_connections",
      help: "WebSockets open now.",
      registers: [this.registry],
      collect() {
        this.set(metrics.openSockets());
      },
    });
    new Gauge({
      name: "sse_streams",
      help: "Server-Sent Event streams (/graphql/stream) open now.",
      registers: [this.registry],
      collect() {
        this.set(metrics.openStreams());
      },
    });
    new Gauge({
      name: "hms_webhooks_queued",
      help: "Webhooks acknowledged and waiting in this process's queue to be applied.",
      registers: [this.registry],
      collect() {
        this.set(metrics.queuedWebhooks());
      },
    });
    // Both gauges come from one read per scrape; a database that does not answer (inboxHealth
    // is bounded in time) leaves them at their last value: the scrape still answers, /readyz
    // says why.
    const health = () => (this.#health ??= this.inboxHealth().finally(() => setImmediate(() => (this.#health = null))));
    new Gauge({
      name: "hms_webhooks_oldest_unapplied_seconds",
      help: "Age of the oldest acknowledged webhook not yet applied, on every instance (the gauge to alert on: above 60 s the apply is stuck).",
      registers: [this.registry],
      async collect() {
        const read = await health().catch(() => null);
        if (read) this.set(read.oldestUnappliedSeconds);
      },
    });
    new Gauge({
      name: "hms_webhooks_dead_letters",
      help: `Acknowledged webhooks that failed to apply 10 times and are no longer retried (npm run webhooks:retry gives them back).`,
      registers: [this.registry],
      async collect() {
        const read = await health().catch(() => null);
        if (read) this.set(read.deadLetters);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  operationLabel(name: string | null | undefined): string {
    if (!name || !/^[A-Za-z_]\w{0,63}$/.test(name)) return "anonymous";
    if (this.#operations.has(name)) return name;
    if (this.#operations.size >= MAX_OPERATION_NAMES) return "other";
    this.#operations.add(name);
    return name;
  }
}
