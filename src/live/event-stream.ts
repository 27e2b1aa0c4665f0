/**
 * A subscriber's stream: replay every event after `afterId` from the log, then go live, with
 * no gap and no duplicate. The live feed is joined before the replay starts and buffered,
 * and anything at or below what was already sent is dropped.
 */
import { Repeater } from "@graphql-yoga/subscription";
import type { EventHub } from "./event-hub.js";
import type { EventLogRepo, EventScope, RoutedEvent } from "./event-log.repo.js";

const REPLAY_PAGE = 500;

export interface StreamOptions {
  hub: EventHub;
  log: EventLogRepo;
  scope: EventScope;
  /** Resume after this event id; null = live from now. */
  afterId: number | null;
  /** Checked for every event before it is sent (re-authorization). False ends the stream. */
  authorize: (event: RoutedEvent) => boolean;
  onEnd?: () => void;
  /** Called as each event is handed to the client (metrics). */
  onDeliver?: (event: RoutedEvent) => void;
}

export function eventStream(options: StreamOptions): AsyncIterableIterator<RoutedEvent> {
  const { hub, log, scope } = options;
  return new Repeater<RoutedEvent>(async (push, stop) => {
    let cursor = options.afterId ?? hub.lastId;
    let replaying = options.afterId !== null;
    const buffered: RoutedEvent[] = [];
    const send = async (event: RoutedEvent) => {
      if (event.id <= cursor) return;
      if (!options.authorize(event)) {
        stop();
        return;
      }
      cursor = event.id;
      options.onDeliver?.(event);
      await push(event);
    };
    const unsubscribe = hub.subscribe((batch) => {
      const mine = batch.filter((e) => inScope(scope, e));
      if (replaying) buffered.push(...mine);
      else for (const event of mine) send(event).catch(() => stop());
    });
    try {
      while (replaying) {
        const page = await log.after(scope, cursor, REPLAY_PAGE);
        for (const event of page) await send(event);
        if (page.length < REPLAY_PAGE) replaying = false;
      }
      for (const event of buffered.splice(0)) await send(event);
      await stop;
    } finally {
      unsubscribe();
      options.onEnd?.();
    }
  });
}

function inScope(scope: EventScope, event: RoutedEvent): boolean {
  if ("consultationId" in scope) return event.consultationId === scope.consultationId;
  if ("doctorId" in scope) return event.doctorId === scope.doctorId;
  if ("patientId" in scope) return event.patientId === scope.patientId;
  return true;
}
