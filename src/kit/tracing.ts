/**
 * OpenTelemetry spans at the API's own seams (docs/tracing.md). Only the API package's
 * global tracer is used here: until app/tracing.ts registers an SDK (OTEL_EXPORTER_OTLP_*
 * set), it is the no-op tracer, and every helper below returns at its first line, allocating
 * nothing. Attributes are given as functions, called only for a span that records: ids and
 * types only, never patient data, parameter values or tokens.
 *
 * Context does not flow in memory across the two hops of a webhook's path: the queue between
 * the intake and the apply (`carry`), and PostgreSQL between the apply and every instance's
 * event hub (a W3C `traceparent` stored with each logged event, `traceparentOf` /
 * `spanContextOf`).
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Span, type SpanContext } from "@opentelemetry/api";

export { SpanKind, type Span } from "@opentelemetry/api";

const tracer = trace.getTracer("consultation-video-api");
let enabled = false;

/** Called once an SDK is registered in this thread (app/tracing.ts); false again at its shutdown. */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

export function tracingEnabled(): boolean {
  return enabled;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: () => Attributes;
  /** The parent when it is not the active span: a context carried across a hop, or null for a new trace. */
  parent?: SpanContext | null;
  /** Other contexts this span continues (a batch's other webhooks). */
  links?: ReadonlyArray<SpanContext | null>;
}

/**
 * Runs `run` inside a new active span (its statements and calls become its children) and
 * ends it when `run` settles; a failure sets the span's status with the error's class only.
 * Off: just `run(null)`.
 */
export function inSpan<T>(name: string, run: (span: Span | null) => Promise<T>, options: SpanOptions = {}): Promise<T> {
  if (!enabled) return run(null);
  const parent = options.parent === undefined ? context.active() : options.parent ? trace.setSpanContext(ROOT_CONTEXT, options.parent) : ROOT_CONTEXT;
  const links = options.links?.flatMap((c) => (c ? [{ context: c }] : []));
  const span = tracer.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, links }, parent);
  if (span.isRecording() && options.attributes) span.setAttributes(options.attributes());
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await run(span);
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Adds attributes to the active span, when one records. */
export function tagActiveSpan(attributes: () => Attributes): void {
  if (!enabled) return;
  const span = trace.getActiveSpan();
  if (span?.isRecording()) span.setAttributes(attributes());
}

/** The active span, when one records (a plugin names or tags the span its request runs in). */
export function recordingSpan(): Span | null {
  if (!enabled) return null;
  const span = trace.getActiveSpan();
  return span?.isRecording() ? span : null;
}

function failed(span: Span, error: unknown): void {
  const errorClass = (error as Error | undefined)?.name ?? "Error";
  span.setAttribute("error.type", errorClass);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorClass });
}

/** Marks a span failed, with the error's class only (`inSpan` does it for a thrown error). */
export function markFailed(span: Span | null, errorClass: string): void {
  if (span?.isRecording()) failed(span, { name: errorClass });
}

/* ---- Carrying a context across the queue's hop ---- */

/** Contexts of the spans that handed an object over (a webhook envelope, queued). */
const carried = new WeakMap<object, SpanContext>();

/** Remembers the active span's context with `item` (or `given`, a context from another thread). */
export function carry(item: object, given?: SpanContext | null): void {
  if (!enabled) return;
  const spanContext = given === undefined ? trace.getActiveSpan()?.spanContext() : given;
  if (spanContext && trace.isSpanContextValid(spanContext)) carried.set(item, spanContext);
}

/** The context `carry` remembered with `item`, if any. */
export function carriedBy(item: object): SpanContext | null {
  return enabled ? (carried.get(item) ?? null) : null;
}

/* ---- W3C traceparent, for a context stored in a row or sent to another thread ---- */

/** The active span's (or `spanContext`'s) traceparent when it is sampled; null otherwise, and always when off. */
export function traceparentOf(spanContext?: SpanContext | null): string | null {
  if (!enabled) return null;
  const c = spanContext === undefined ? trace.getActiveSpan()?.spanContext() : spanContext;
  if (!c || !trace.isSpanContextValid(c) || (c.traceFlags & TraceFlags.SAMPLED) === 0) return null;
  return `00-${c.traceId}-${c.spanId}-01`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The remote context a traceparent names; null when off, absent or malformed. */
export function spanContextOf(traceparent: string | null | undefined): SpanContext | null {
  if (!enabled || !traceparent) return null;
  const match = TRACEPARENT.exec(traceparent);
  if (!match) return null;
  const spanContext = { traceId: match[1]!, spanId: match[2]!, traceFlags: Number.parseInt(match[3]!, 16), isRemote: true };
  return trace.isSpanContextValid(spanContext) ? spanContext : null;
}

/** Starts (not activates) a span under `parent`; the caller ends it. Null when off or when it would not record. */
export function startChildSpan(name: string, parent: SpanContext, kind: SpanKind, attributes: () => Attributes): Span | null {
  if (!enabled) return null;
  const span = tracer.startSpan(name, { kind }, trace.setSpanContext(ROOT_CONTEXT, parent));
  if (!span.isRecording()) return null;
  span.setAttributes(attributes());
  return span;
}

/* ---- Statements ---- */

/** A postgres.js query: a promise that starts when awaited. */
type Statement = PromiseLike<unknown>;

/**
 * A span for `statement` from the moment it is awaited to its answer, as a child of the span
 * active when it was made; only inside a recording span (a statement of no traced operation
 * — a poll, a timer — makes none). `text` is the parameterised SQL: values never reach it.
 */
export function tracedStatement<S extends Statement>(statement: S, text: string): S {
  if (!enabled) return statement;
  const active = context.active();
  if (!trace.getSpan(active)?.isRecording()) return statement;
  const start = statement.then.bind(statement);
  let answer: Promise<unknown> | undefined;
  const then = (onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) => {
    answer ??= new Promise((resolve, reject) => {
      const span = tracer.startSpan(statementName(text), { kind: SpanKind.CLIENT, attributes: statementAttributes(text) }, active);
      start(
        (value) => (span.end(), resolve(value)),
        (error) => (failed(span, error), span.end(), reject(error)),
      );
    });
    return answer.then(onFulfilled, onRejected);
  };
  return Object.assign(statement, { then });
}

const MAX_QUERY_TEXT = 2_000;

function operationOf(text: string): string {
  return /^\s*\(?\s*([a-z]+)/i.exec(text)?.[1]?.toUpperCase() ?? "";
}

function statementName(text: string): string {
  return operationOf(text) || "postgresql";
}

function statementAttributes(text: string): Attributes {
  const operation = operationOf(text);
  return {
    "db.system.name": "postgresql",
    "db.query.text": text.length > MAX_QUERY_TEXT ? text.slice(0, MAX_QUERY_TEXT) : text,
    ...(operation ? { "db.operation.name": operation } : {}),
  };
}

/* ---- Outgoing HTTP (100ms) ---- */

/**
 * A client span around one HTTP attempt: `{method} {endpoint}`, the server's host, the
 * status. The URL itself is not recorded (paths and queries carry ids), nor any header.
 */
export function httpClientSpan<R extends { status: number }>(method: string, endpoint: string, url: string, run: () => Promise<R>): Promise<R> {
  if (!enabled) return run();
  return inSpan(
    `${method} ${endpoint}`,
    async (span) => {
      const response = await run();
      span?.setAttribute("http.response.status_code", response.status);
      if (response.status >= 400) markFailed(span, String(response.status));
      return response;
    },
    { kind: SpanKind.CLIENT, attributes: () => ({ "http.request.method": method, "server.address": new URL(url).hostname, "hms.endpoint": endpoint }) },
  );
}
