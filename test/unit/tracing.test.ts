/**
 * Tracing's switch (app/tracing.ts) and the span helpers (kit/tracing.ts): off unless an OTLP
 * endpoint is set and the SDK not disabled, and then nothing is created; on, a traceparent
 * round-trips and a statement made inside a span is its child. The whole path on real
 * processes: test/api/tracing.test.ts.
 */
import { afterAll, describe, expect, it } from "vitest";
import { startTracing, tracingWanted, type Tracing } from "../../src/app/tracing.js";
import { inSpan, spanContextOf, traceparentOf, tracedStatement, tracingEnabled } from "../../src/kit/tracing.js";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.js";

const ENDPOINT = "http://127.0.0.1:4318";

describe("tracing's switch", () => {
  it("is on only with an OTLP endpoint, and off whenever OTEL_SDK_DISABLED is true", () => {
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted({ OTEL_SERVICE_NAME: "api", OTEL_TRACES_SAMPLER: "always_on" })).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: " " })).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${ENDPOINT}/v1/traces` })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SDK_DISABLED: "TRUE" })).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SDK_DISABLED: "false" })).toBe(true);
  });
});

describe("tracing off, then on, in this process", () => {
  let receiver: OtlpReceiver;
  let tracing: Tracing | null = null;
  afterAll(async () => {
    await tracing?.shutdown();
    await receiver?.close();
  });

  it("off: creates nothing, and every helper passes through", async () => {
    expect(process.env.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(await startTracing()).toBeNull();
    expect(tracingEnabled()).toBe(false);
    const statement = Promise.resolve(1);
    expect(tracedStatement(statement, "select 1")).toBe(statement);
    expect(await inSpan("x", async (span) => span)).toBeNull();
    expect(traceparentOf()).toBeNull();
    expect(spanContextOf("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")).toBeNull();
  });

  it("on: exports spans, with a statement as its operation's child and a traceparent that names the span", async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_BSP_SCHEDULE_DELAY = "20";
    tracing = await startTracing({ instanceId: "unit-instance" });
    expect(tracing).not.toBeNull();
    const traceparent = await inSpan("operation", async () => {
      // A postgres.js query is a Promise subclass whose `then` starts it.
      await tracedStatement(new (class Query extends Promise<unknown> {})((resolve) => resolve([])), "select * from users where id = $1");
      return traceparentOf();
    });
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(spanContextOf(traceparent)).toMatchObject({ isRemote: true, traceFlags: 1 });
    expect(spanContextOf("00-zz-b7ad6b7169203331-01")).toBeNull();
    const spans = await receiver.waitFor((all) => all.length >= 2);
    const operation = spans.find((s) => s.name === "operation")!;
    expect(traceparent).toBe(`00-${operation.traceId}-${operation.spanId}-01`);
    expect(operation.resource).toMatchObject({ "service.name": "consultation-video-api", "service.instance.id": "unit-instance" });
    const statement = spans.find((s) => s.name === "SELECT")!;
    expect(statement).toMatchObject({ parentSpanId: operation.spanId, kind: 3 });
    expect(statement.attributes).toMatchObject({ "db.system.name": "postgresql", "db.operation.name": "SELECT", "db.query.text": "select * from users where id = $1" });
  });
});
