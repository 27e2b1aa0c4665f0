/**
 * The WebSocket side of /graphql: both GraphQL-over-WebSocket protocols on one path, chosen
 * by `Sec-WebSocket-Protocol` as graphql-ws's recipe and Hasura do. A client that offers
 * `graphql-transport-ws` gets graphql-ws's own protocol; one that offers `graphql-ws` (the
 * legacy subscriptions-transport-ws protocol, graphql_flutter's default) or no sub-protocol
 * at all (ferry's `WebSocketLink`, which speaks the legacy protocol) gets the legacy adapter
 * (legacy-ws.ts) on the same options; one that offers only others is refused with 4406.
 * Both refuse messages over 64 KiB, and close a socket that leaves more than
 * `maxBufferedBytes` unread with 4413 (slow-consumer.ts). Keep-alive: every `pingIntervalMs`
 * each socket is pinged and terminated if it has not answered by the next ping; 0 sends no
 * pings at all.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { GRAPHQL_TRANSPORT_WS_PROTOCOL, handleProtocols } from "graphql-ws";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "../kit/logger.js";
import { LEGACY_PROTOCOL, legacyCodec } from "./legacy-ws.js";
import { formatExecutionResult } from "./request-check.js";
import { SharedPayloads } from "./shared-payloads.js";
import { slowConsumerCheck } from "./slow-consumer.js";
import { serveSockets, type SocketCodec } from "./socket-server.js";
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
  const common = { noServer: true, path: "/graphql", maxPayload: MAX_WS_MESSAGE_BYTES } as const;
  const current = new WebSocketServer({ ...common, handleProtocols });
  const legacy = new WebSocketServer({ ...common, handleProtocols: (offered) => (offered.has(LEGACY_PROTOCOL) ? LEGACY_PROTOCOL : false) });
  // One options object (and one pipeline) for both protocols: sockets per user are counted across them.
  const payloads = new SharedPayloads((result) => formatExecutionResult(result, options.isProduction));
  const serverOptions = graphqlWsOptions(options, payloads);
  const serving = {
    clientIp: options.clientIp,
    expand: (data: string) => payloads.expand(data),
    pingIntervalMs: options.ws.pingIntervalMs,
    maxBufferedBytes: options.ws.maxBufferedBytes,
    logger: options.logger,
    slowConsumer: slowConsumerCheck(options.ws.maxBufferedBytes, options.services.metrics, options.logger),
    connection: () => options.pipeline.connection("socket"),
  };
  const cleanups = [
    serveSockets(serverOptions, current, { ...serving, transport: "graphql-ws", codec: currentCodec }),
    serveSockets(serverOptions, legacy, { ...serving, transport: "legacy", codec: legacyCodec }),
  ];
  // Registered after each server's own listener, so it runs once that one has attached its handlers.
  const onError = frameRefused(options.logger);
  for (const wsServer of [current, legacy]) {
    wsServer.on("connection", (socket: WebSocket) => {
      socket.removeAllListeners("error");
      socket.on("error", onError);
    });
  }
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = speaksLegacy(request) ? legacy : current;
    target.handleUpgrade(request, socket, head, (ws) => target.emit("connection", ws, request));
  };
  httpServer.on("upgrade", onUpgrade);
  return {
    dispose: async () => {
      httpServer.off("upgrade", onUpgrade);
      await Promise.all(cleanups.map((cleanup) => cleanup.dispose()));
    },
    openSockets: () => current.clients.size + legacy.clients.size,
  };
}

/** graphql-transport-ws as it is: one codec for every socket that negotiated it. */
const CURRENT: SocketCodec = { protocol: GRAPHQL_TRANSPORT_WS_PROTOCOL, incoming: (handle) => handle, outgoing: (data) => [data], keepAliveFrame: () => null };

/** graphql-ws refuses (4406) a socket that negotiated no protocol it speaks. */
function currentCodec(socket: WebSocket): SocketCodec {
  return socket.protocol === CURRENT.protocol ? CURRENT : { ...CURRENT, protocol: socket.protocol };
}

/** `graphql-transport-ws` wins when offered with others; no sub-protocol at all is legacy. */
function speaksLegacy(request: IncomingMessage): boolean {
  const header = request.headers["sec-websocket-protocol"];
  const offered = new Set((header ?? "").split(",").map((p) => p.trim()).filter(Boolean));
  if (offered.has(GRAPHQL_TRANSPORT_WS_PROTOCOL)) return false;
  return offered.size === 0 || offered.has(LEGACY_PROTOCOL);
}

/**
 * `ws` emits "error" for a frame it refuses (too large, bad opcode, invalid UTF-8, unmasked)
 * after it has already started closing the socket with the matching status (1009, 1002,
 * 1007). graphql-ws answers that event with console.error and a stack trace, which lets
 * anyone write unstructured lines to our logs at will; it becomes one JSON line instead.
 */
function frameRefused(logger: Logger): (this: WebSocket, error: Error & { code?: string }) => void {
  // One listener for every socket (it is called on the socket), not a closure per socket.
  return function (this: WebSocket, error) {
    logger.warn({ errorCode: error.code ?? error.name, reason: error.message }, "WebSocket frame refused");
    if (this.readyState === this.OPEN) this.close(1011, "Internal server error");
  };
}
