/**
 * The WebSocket side of /graphql: a `ws` server that refuses messages over 64 KiB, run by
 * graphql-ws's `useServer`. graphql-ws's keep-alive is the only one: every `pingIntervalMs`
 * it pings each socket and terminates one that has not answered by the next ping; 0 sends no
 * pings at all.
 */
import type { IncomingMessage, Server } from "node:http";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "../logger.js";
import { graphqlWsOptions } from "./ws.js";

export const MAX_WS_MESSAGE_BYTES = 64 * 1024;

export interface GraphqlWsServer {
  /** Closes every socket with 1001 "Going away" and stops accepting. */
  dispose(): Promise<void>;
  openSockets(): number;
}

export function attachGraphqlWs(
  httpServer: Server,
  options: Parameters<typeof graphqlWsOptions>[0] & { clientIp: (request: IncomingMessage) => string | null },
): GraphqlWsServer {
  const wsServer = new WebSocketServer({ server: httpServer, path: "/graphql", maxPayload: MAX_WS_MESSAGE_BYTES });
  // Read while the socket is connected: once it closed, its remote address is gone, and
  // onClose still counts the attempt against that IP.
  const ips = new WeakMap<IncomingMessage, string | null>();
  const clientIp = (request: IncomingMessage): string | null => {
    if (!ips.has(request)) ips.set(request, options.clientIp(request));
    return ips.get(request) ?? null;
  };
  const cleanup = useServer(graphqlWsOptions({ ...options, clientIp }), wsServer, options.ws.pingIntervalMs);
  // Registered after useServer's own listener, so it runs once that one has attached its handlers.
  wsServer.on("connection", (socket, request) => {
    clientIp(request);
    replaceErrorHandler(socket, options.logger);
  });
  return { dispose: async () => cleanup.dispose(), openSockets: () => wsServer.clients.size };
}

/**
 * `ws` emits "error" for a frame it refuses (too large, bad opcode, invalid UTF-8, unmasked)
 * after it has already started closing the socket with the matching status (1009, 1002,
 * 1007). graphql-ws answers that event with console.error and a stack trace, which lets
 * anyone write unstructured lines to our logs at will; it becomes one JSON line instead.
 */
function replaceErrorHandler(socket: WebSocket, logger: Logger): void {
  socket.removeAllListeners("error");
  socket.on("error", (error: Error & { code?: string }) => {
    logger.warn({ errorCode: error.code ?? error.name, reason: error.message }, "WebSocket frame refused");
    if (socket.readyState === socket.OPEN) socket.close(1011, "Internal server error");
  });
}
