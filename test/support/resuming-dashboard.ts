/**
 * A dashboard as an app keeps it: subscribed over graphql-ws to `myConsultationEvents` with
 * `after` = the last event id it received, and subscribed again the same way whenever the
 * socket closes or the stream ends (a 4500 while the database is away, an instance stopping),
 * until it is stopped. `pause` plays a phone losing the network; `resume` comes back, on any
 * instance. Every event received is kept, in order of receipt, duplicates included, so a test
 * can compare it with the log.
 */
import { print } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { MyConsultationEventsDocument, type MyConsultationEventsSubscription } from "../gql/graphql.js";

export interface ResumingDashboard {
  /** The ids of every event received, in order of receipt. */
  readonly ids: string[];
  /** How each subscription ended: the socket's close code. */
  readonly closes: number[];
  /** Closes the socket and stays away until `resume`. */
  pause(): Promise<void>;
  /** Subscribes again, on `url`, after the last event received. */
  resume(url: string): void;
  stop(): Promise<void>;
}

/** Subscribes on `url` after `after` (an event id, or the log's start: `encodeEventId(0)`). */
export function resumingDashboard(url: string, token: string, after: string): ResumingDashboard {
  const ids: string[] = [];
  const closes: number[] = [];
  let current: Client | null = null;
  let away = false;
  let stopped = false;
  let target = url;
  const open = () => {
    const client = createClient({
      url: target.replace(/^http/, "ws") + "/graphql",
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: true,
      on: {
        closed: (event) => {
          closes.push((event as { code: number }).code);
          if (current !== client || away || stopped) return;
          // Not at once: an instance that refuses every attempt would be asked in a tight loop.
          setTimeout(() => !away && !stopped && current === client && open(), 100);
        },
      },
    });
    current = client;
    client.subscribe<MyConsultationEventsSubscription>(
      { query: print(MyConsultationEventsDocument), variables: { after: ids.at(-1) ?? after } },
      {
        next: (value) => {
          if (value.data) ids.push(value.data.myConsultationEvents.id);
        },
        // The socket closes after either (lazy): `closed` subscribes again.
        error: () => undefined,
        complete: () => undefined,
      },
    );
  };
  open();
  return {
    ids,
    closes,
    pause: async () => {
      away = true;
      await current?.dispose();
    },
    resume: (next) => {
      target = next;
      away = false;
      open();
    },
    stop: async () => {
      stopped = true;
      await current?.dispose();
    },
  };
}
