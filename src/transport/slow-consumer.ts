/**
 * The cap on what one subscriber may leave unread (STREAM_MAX_BUFFERED_BYTES). A client that
 * stops reading leaves its frames in this process's memory (SSE: always written at once;
 * WebSocket: no longer waited for once it takes nothing for a while, see socket-server.ts);
 * checked before each write, past the cap the transport is cut (WebSocket: close 4413, which
 * graphql-ws's client retries, resuming with `after`; SSE: the response is destroyed).
 * Counted and logged once per socket, with no patient data.
 */
import type { Logger } from "../kit/logger.js";
import type { WriteBatch } from "./batched-writes.js";
import type { Metrics } from "../kit/metrics.js";

export const CLOSE_SLOW_CONSUMER = 4413;
export const SLOW_CONSUMER_REASON = "slow consumer: more than STREAM_MAX_BUFFERED_BYTES unread";

export type StreamTransport = "graphql-ws" | "legacy" | "sse";

/**
 * True (counted, logged) when the stream's unread bytes are over the cap and the transport
 * must be cut. Bytes the stream itself still holds (batched-writes.ts) are let go first: only
 * what the client left unread counts.
 */
export type SlowConsumerCheck = (transport: StreamTransport, writes: Pick<WriteBatch, "unread" | "flush">) => boolean;

export function slowConsumerCheck(maxBufferedBytes: number, metrics: Metrics, logger: Logger): SlowConsumerCheck {
  return (transport, writes) => {
    if (writes.unread() <= maxBufferedBytes) return false;
    writes.flush();
    const unreadBytes = writes.unread();
    if (unreadBytes <= maxBufferedBytes) return false;
    metrics.slowConsumers.inc({ transport });
    logger.warn({ transport, unreadBytes, maxBufferedBytes }, "slow consumer cut off");
    return true;
  };
}
