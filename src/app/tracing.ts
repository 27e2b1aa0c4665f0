/**
 * OpenTelemetry tracing for this process (docs/tracing.md): on only when an OTLP endpoint is
 * set (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and
 * OTEL_SDK_DISABLED is not true. Then an SDK is registered in this thread (the main thread
 * and the webhook apply thread each start one), with a batch span processor exporting over
 * OTLP/HTTP; the SDK reads the other standard variables itself (OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*, OTEL_EXPORTER_OTLP_HEADERS,
 * _TIMEOUT, _PROTOCOL is JSON here). Off, nothing is loaded or created: the spans in
 * kit/tracing.ts stay the API's no-op ones.
 */
import { randomUUID } from "node:crypto";
import { setTracingEnabled } from "../kit/tracing.js";

export interface Tracing {
  /** The service.instance.id every span of this process carries (its threads' included). */
  readonly instanceId: string;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Shared by the threads of one process; a new one per process by default. */
  instanceId?: string;
  /** Set on spans of a thread other than the main one (`webhook-apply`). */
  threadName?: string;
}

const DEFAULT_SERVICE_NAME = "consultation-video-api";

/** Whether the environment asks for traces (the rule above). */
export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/** Starts tracing when the environment asks for it; null (and nothing loaded) otherwise. */
export async function startTracing(options: TracingOptions = {}): Promise<Tracing | null> {
  // The SDK reads the rest of its settings from process.env itself.
  if (!tracingWanted(process.env)) return null;
  // Loaded only when on: a process without tracing never imports the SDK.
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { defaultResource, detectResources, envDetector, resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const instanceId = options.instanceId ?? randomUUID();
  const own = resourceFromAttributes({
    "service.name": DEFAULT_SERVICE_NAME,
    "service.instance.id": instanceId,
    ...(options.threadName ? { "thread.name": options.threadName } : {}),
  });
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over ours.
  const resource = defaultResource().merge(own).merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  provider.register();
  setTracingEnabled(true);
  return {
    instanceId,
    shutdown: async () => {
      setTracingEnabled(false);
      await provider.shutdown().catch(() => undefined);
    },
  };
}
