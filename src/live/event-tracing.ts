/**
 * The event log's part of a webhook's trace (docs/tracing.md). The append's span context is
 * stored with each event it appends (`trace_parent`), so every instance's hub continues the
 * trace that made the event: one `receive` span per event and instance, as a child of the
 * append, counting the streams it reached; and, for a sampled trace, one `push` span per
 * frame, from its hand-over to the subscription's transport until the transport took it.
 * Replayed events (read by a stream, not by the hub) make no spans.
 */
import { carriedBy, carry, inSpan, SpanKind, spanContextOf, startChildSpan, traceparentOf, tracingEnabled, type Span } from "../kit/tracing.js";

/** What a logged event, as the hub reads it (event-log.repo.ts `RoutedEvent`), carries for tracing. */
interface RoutedEvent {
  id: number;
  type: string;
  consultationId: string;
  doctorId: string;
  patientId: string;
  traceParent: string | null;
}

/** Runs the append in its span and gives it the traceparent to store (null when off or unsampled). */
export function appendSpan(count: number, channel: string, run: (traceParent: string | null) => Promise<void>): Promise<void> {
  if (!tracingEnabled()) return run(null);
  return inSpan("consultation_events append", () => run(traceparentOf()), {
    attributes: () => ({ "consultation.event.count": count, "db.notify.channel": channel }),
  });
}

/** The hub's scopes an event reaches (event-hub.ts routes by the same keys). */
function listenersOf(listeners: ReadonlyMap<string, ReadonlySet<unknown>>, event: RoutedEvent): number {
  let count = 0;
  for (const key of ["all", `c:${event.consultationId}`, `d:${event.doctorId}`, `p:${event.patientId}`]) count += listeners.get(key)?.size ?? 0;
  return count;
}

/**
 * Starts a `receive` span for each event of a hub read that carries a trace; returns what ends
 * them once the read is handed to its listeners, or null when there is none.
 */
export function receiveSpans(read: readonly RoutedEvent[], listeners: ReadonlyMap<string, ReadonlySet<unknown>>): (() => void) | null {
  if (!tracingEnabled()) return null;
  const spans: Span[] = [];
  for (const event of read) {
    const parent = spanContextOf(event.traceParent);
    const span = parent && startChildSpan("consultation_events receive", parent, SpanKind.CONSUMER, () => ({
      "consultation.event.id": event.id,
      "consultation.event.type": event.type,
      "consultation.id": event.consultationId,
      "consultation.event.streams": listenersOf(listeners, event),
    }));
    if (!span) continue;
    carry(event, span.spanContext());
    spans.push(span);
  }
  return spans.length === 0 ? null : () => spans.forEach((span) => span.end());
}

/** `push` spans for the frames of `events[from, to)` whose hub read was traced; what ends them, or null. */
export function pushSpans(events: readonly RoutedEvent[], from: number, to: number): (() => void) | null {
  if (!tracingEnabled()) return null;
  const spans: Span[] = [];
  for (let i = from; i < to; i++) {
    const event = events[i]!;
    const parent = carriedBy(event);
    const span = parent && startChildSpan("consultation_events push", parent, SpanKind.PRODUCER, () => ({
      "consultation.event.id": event.id,
      "consultation.id": event.consultationId,
    }));
    if (span) spans.push(span);
  }
  return spans.length === 0 ? null : () => spans.forEach((span) => span.end());
}
