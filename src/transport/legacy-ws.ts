/**
 * The legacy Apollo protocol (subscriptions-transport-ws: `connection_init`, `connection_ack`,
 * `ka`, `start`, `data`, `error`, `complete`, `stop`, `connection_terminate`) served by
 * graphql-ws's own `makeServer` with the very options graphql-transport-ws uses: every
 * legacy frame is rewritten to its graphql-transport-ws twin on the way in and back on the
 * way out. Authentication, the request check, the caps, the anonymous budget, the
 * connection-init timeout, the token-expiry close, the execution through graphql's
 * `subscribe()` and the close codes are therefore one code path for both protocols.
 *
 * Why an adapter and not subscriptions-transport-ws's `SubscriptionServer` (unmaintained; its
 * README points to graphql-ws): it runs a `start` sent before, or after a refused,
 * `connection_init` with an empty context; it has no connection-init timeout; it closes a
 * socket that offers no sub-protocol (ferry's default) with 1002; it parses without a token
 * limit; and it never releases an operation that completes by itself, which would break the
 * per-socket subscription cap.
 *
 * Errors: graphql-transport-ws's terminal `error` becomes `data { errors }` then `complete`,
 * as SubscriptionServer answers GraphQL errors, so Apollo's and graphql_flutter's legacy
 * links hand the app a result with `errors` (and their `extensions.code`) and end the stream.
 * Keep-alive (socket-server.ts): every `pingIntervalMs` a `ka` frame once the init is
 * acknowledged (legacy clients time out without one) besides the WebSocket ping.
 */
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL } from "graphql-ws";
import type { WebSocket } from "ws";
import type { SocketCodec } from "./socket-server.js";

/** The sub-protocol name subscriptions-transport-ws registered (not graphql-ws's). */
export const LEGACY_PROTOCOL = "graphql-ws";

interface Frame {
  type?: unknown;
  id?: unknown;
  payload?: unknown;
}

/** One legacy socket's translation, for serveSockets; `ka` only once the init is acknowledged. */
export function legacyCodec(socket: WebSocket): SocketCodec {
  let acknowledged = false;
  return {
    protocol: GRAPHQL_TRANSPORT_WS_PROTOCOL,
    incoming: (handle) => forwarder(socket, handle),
    outgoing: (data) =>
      toLegacy(JSON.parse(data) as Frame).map((frame) => {
        if (frame.type === "connection_ack") acknowledged = true;
        return JSON.stringify(frame);
      }),
    keepAliveFrame: () => (acknowledged ? KA : null),
  };
}

const KA = JSON.stringify({ type: "ka" });

/**
 * Hands graphql-ws the graphql-transport-ws twin of each legacy frame; refuses the rest
 * (4400). Legacy clients send `start` right after `connection_init`, without waiting for the
 * ack graphql-ws insists on, so later frames wait until the init has been answered.
 */
function forwarder(socket: WebSocket, handle: (data: string) => Promise<void>): (raw: string) => Promise<void> {
  let initAnswered: Promise<unknown> = Promise.resolve();
  return (raw) => {
    const twin = fromLegacy(parseFrame(raw));
    if (twin === "terminate") return closing(socket, 1000, "Normal Closure");
    if (!twin) return closing(socket, CloseCode.BadRequest, "Invalid message received");
    const data = encode(twin);
    if (twin.type === "connection_init") {
      const answering = handle(data);
      initAnswered = answering.catch(() => {});
      return answering;
    }
    // Chained, not awaited: a subscription's frame stays pending while it runs, and an
    // async function would hold this frame's text and its twin all that time.
    return initAnswered.then(() => (socket.readyState === socket.OPEN ? handle(data) : undefined));
  };
}

function closing(socket: WebSocket, code: number, reason: string): Promise<void> {
  socket.close(code, reason);
  return Promise.resolve();
}

/**
 * The twin's text. A payload nested deeper than JSON.stringify can recurse (JSON.parse has no
 * such limit) keeps its query and gets a stand-in for its variables that is nested too deep
 * as well, but writable: the request pipeline then refuses it (BAD_USER_INPUT) exactly as it
 * refuses such variables on every other transport, instead of the socket failing with 4500.
 */
function encode(twin: Frame): string {
  try {
    return JSON.stringify(twin);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const payload = (twin.payload ?? {}) as Record<string, unknown>;
    let tooDeep: unknown = null;
    for (let i = 0; i < 1_000; i++) tooDeep = [tooDeep];
    return JSON.stringify({ ...twin, payload: { ...payload, variables: { tooDeep } } });
  }
}

function parseFrame(raw: string): Frame | null {
  try {
    const frame: unknown = JSON.parse(raw);
    return typeof frame === "object" && frame !== null ? (frame as Frame) : null;
  } catch {
    return null;
  }
}

/** graphql-ws validates the result as it validates its own clients' messages. */
export function fromLegacy(frame: Frame | null): Frame | "terminate" | null {
  switch (frame?.type) {
    case "connection_terminate":
      return "terminate";
    case "connection_init":
      return { type: "connection_init", payload: frame.payload };
    case "start":
      return { type: "subscribe", id: frame.id, payload: frame.payload };
    case "stop":
      return { type: "complete", id: frame.id };
    default:
      return null;
  }
}

export function toLegacy(frame: Frame): Frame[] {
  switch (frame.type) {
    case "connection_ack":
      return [{ type: "connection_ack" }, { type: "ka" }];
    case "next":
      return [{ id: frame.id, type: "data", payload: frame.payload }];
    case "error":
      return [
        { id: frame.id, type: "data", payload: { errors: frame.payload } },
        { id: frame.id, type: "complete" },
      ];
    case "complete":
      return [{ id: frame.id, type: "complete" }];
    default:
      return []; // pong: the legacy protocol has no ping, so none is ever asked for
  }
}
