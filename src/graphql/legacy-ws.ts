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
 * Keep-alive: every `pingIntervalMs` a `ka` frame (legacy clients time out without one) and a
 * WebSocket ping; a socket that has not answered the previous ping is terminated, as
 * graphql-ws's `useServer` does (its loop is not exported).
 */
import type { IncomingMessage } from "node:http";
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, makeServer, type ServerOptions } from "graphql-ws";
import type { Extra } from "graphql-ws/use/ws";
import type { WebSocket, WebSocketServer } from "ws";
import type { Logger } from "../logger.js";

/** The sub-protocol name subscriptions-transport-ws registered (not graphql-ws's). */
export const LEGACY_PROTOCOL = "graphql-ws";

interface Frame {
  type?: unknown;
  id?: unknown;
  payload?: unknown;
}

export interface LegacyServer {
  dispose(): Promise<void>;
}

export function useLegacyServer<P extends Record<string, unknown>, E extends Extra>(
  options: ServerOptions<P, E>,
  wsServer: WebSocketServer,
  pingIntervalMs: number,
  logger: Logger,
): LegacyServer {
  const server = makeServer(options);
  wsServer.on("connection", (socket: WebSocket, request: IncomingMessage) => {
    let acknowledged = false;
    const send = (frame: Frame) => sendFrame(socket, frame);
    const closed = server.opened(
      {
        protocol: GRAPHQL_TRANSPORT_WS_PROTOCOL,
        send: async (data) => {
          for (const frame of toLegacy(JSON.parse(data) as Frame)) {
            if (frame.type === "connection_ack") acknowledged = true;
            await send(frame);
          }
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) => {
          const forward = forwarder(socket, handle);
          socket.on("message", async (raw) => {
            try {
              await forward(String(raw));
            } catch (error) {
              logger.error({ err: error }, "legacy WebSocket message failed");
              socket.close(CloseCode.InternalServerError, "Internal server error");
            }
          });
        },
      },
      { socket, request } as E,
    );
    const stopKeepAlive = keepAlive(socket, pingIntervalMs, () => {
      if (acknowledged) send({ type: "ka" }).catch(() => socket.terminate());
    });
    socket.once("close", (code, reason) => {
      stopKeepAlive();
      void closed(code, String(reason));
    });
  });
  return {
    dispose: async () => {
      for (const client of wsServer.clients) client.close(1001, "Going away");
      wsServer.removeAllListeners();
      await new Promise<void>((resolve, reject) => wsServer.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/**
 * Hands graphql-ws the graphql-transport-ws twin of each legacy frame; refuses the rest
 * (4400). Legacy clients send `start` right after `connection_init`, without waiting for the
 * ack graphql-ws insists on, so later frames wait until the init has been answered.
 */
function forwarder(socket: WebSocket, handle: (data: string) => Promise<void>): (raw: string) => Promise<void> {
  let initAnswered: Promise<unknown> = Promise.resolve();
  return async (raw) => {
    const twin = fromLegacy(parseFrame(raw));
    if (twin === "terminate") return socket.close(1000, "Normal Closure");
    if (!twin) return socket.close(CloseCode.BadRequest, "Invalid message received");
    const data = JSON.stringify(twin);
    if (twin.type === "connection_init") {
      const answering = handle(data);
      initAnswered = answering.catch(() => {});
      return answering;
    }
    await initAnswered;
    if (socket.readyState === socket.OPEN) await handle(data);
  };
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

function sendFrame(socket: WebSocket, frame: Frame): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.readyState !== socket.OPEN) return resolve();
    socket.send(JSON.stringify(frame), (error) => (error ? reject(error) : resolve()));
  });
}

/** Returns the function that stops it; 0 sends nothing and never terminates. */
function keepAlive(socket: WebSocket, intervalMs: number, sendKa: () => void): () => void {
  if (!(intervalMs > 0 && Number.isFinite(intervalMs))) return () => {};
  let awaitingPong = false;
  socket.on("pong", () => (awaitingPong = false));
  const timer = setInterval(() => {
    if (socket.readyState !== socket.OPEN) return;
    if (awaitingPong) return socket.terminate();
    awaitingPong = true;
    socket.ping();
    sendKa();
  }, intervalMs);
  return () => clearInterval(timer);
}
