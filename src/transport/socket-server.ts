/**
 * graphql-ws's protocol-agnostic `makeServer` served over a `ws` server, for both protocols on
 * /graphql: a codec turns each socket's text into graphql-transport-ws messages and back
 * (identity for graphql-transport-ws itself, the legacy rewrite in legacy-ws.ts). This stands
 * in for graphql-ws's `useServer` for one reason: its `send` waits for every frame to reach the
 * network before the subscription may send the next, so a client that stops reading holds
 * its events queued in the process where no byte cap can see them. Here a frame is written at
 * once (the frames of one turn of the event loop in one write) and the send waits only once 64 KiB are unread (a replay then goes at the client's
 * pace); a client that takes nothing for 5 s is no longer waited for, so what it leaves unread
 * reaches the cap, which is checked before each write.
 *
 * Keep-alive: every `pingIntervalMs` a ping (and the codec's keep-alive frame, if any); a socket
 * that has not answered the previous ping is terminated, as `useServer` does; 0 sends nothing.
 */
import type { IncomingMessage } from "node:http";
import { CloseCode, makeServer, type ServerOptions } from "graphql-ws";
import type { WebSocket, WebSocketServer } from "ws";
import type { Logger } from "../kit/logger.js";
import type { Connection } from "./request-pipeline.js";
import { WriteBatch, type Corkable } from "./batched-writes.js";
import { CLOSE_SLOW_CONSUMER, SLOW_CONSUMER_REASON, type SlowConsumerCheck, type StreamTransport } from "./slow-consumer.js";

/** One socket's translation between its protocol and graphql-transport-ws. */
export interface SocketCodec {
  /** The protocol graphql-ws is told the socket speaks (it refuses any but its own with 4406). */
  protocol: string;
  /** Wraps graphql-ws's handler of incoming messages into this protocol's. */
  incoming(handle: (data: string) => Promise<void>): (raw: string) => Promise<void>;
  /** This protocol's frames for one outgoing graphql-transport-ws message. */
  outgoing(data: string): readonly string[];
  /** A frame sent at each keep-alive tick besides the ping, or null. */
  keepAliveFrame(): string | null;
}

/**
 * What each connection's context holds about its socket. Not the upgrade request, as
 * graphql-ws's `useServer` keeps: it is only read for the client's IP, and holding it for the
 * socket's lifetime (headers, raw headers, the request object) was 1.3 KB of heap per socket.
 */
export interface SocketExtra {
  socket: WebSocket;
  /** The client's IP, read at the upgrade (once the socket closed, its address is gone). */
  clientIp: string | null;
  /** The socket's hold on its user's slot: closed by the socket's own close event, first of all. */
  connection: Connection;
}

export interface SocketServerOptions {
  transport: StreamTransport;
  /** The client's IP as HTTP sees it (behind TRUST_PROXY: from X-Forwarded-For). */
  clientIp: (request: IncomingMessage) => string | null;
  codec: (socket: WebSocket) => SocketCodec;
  pingIntervalMs: number;
  logger: Logger;
  slowConsumer: SlowConsumerCheck;
  /** The cap the check enforces (STREAM_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number;
  /** Applied to each frame before it is written (shared-payloads.ts). */
  expand: (frame: string) => string;
  /** A new socket's hold on a slot (the request pipeline's). */
  connection: () => Connection;
}

export interface SocketServer {
  /** Closes every socket with 1001 "Going away" and stops accepting. */
  dispose(): Promise<void>;
}

export function serveSockets<P extends Record<string, unknown>, E extends SocketExtra>(
  options: ServerOptions<P, E>,
  wsServer: WebSocketServer,
  serving: SocketServerOptions,
): SocketServer {
  const server = makeServer(options);
  wsServer.on("connection", (socket: WebSocket, request: IncomingMessage) => {
    const codec = serving.codec(socket);
    const connection = serving.connection();
    const write = writer(socket, request.socket, serving);
    const closed = server.opened(
      {
        protocol: codec.protocol,
        send: async (data) => {
          let flushed: Promise<void> | undefined;
          for (const frame of codec.outgoing(data)) flushed = write(serving.expand(frame)) ?? flushed;
          await flushed;
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) => {
          const receive = codec.incoming(handle);
          socket.on("message", async (raw) => {
            try {
              await receive(String(raw));
            } catch (error) {
              serving.logger.error({ errorClass: (error as Error).name }, "WebSocket message failed");
              socket.close(CloseCode.InternalServerError, "Internal server error");
            }
          });
        },
      },
      { socket, clientIp: serving.clientIp(request), connection } as E,
    );
    const stopKeepAlive = keepAlive(socket, serving.pingIntervalMs, () => {
      const frame = codec.keepAliveFrame();
      if (frame) write(frame);
    });
    socket.once("close", (code, reason) => {
      // Before graphql-ws's own clean-up, which awaits each subscription's end (and stops at
      // the first that throws): the slot is free whatever happens there.
      connection.close();
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
 * Past this many bytes unread (or a quarter of the cap, if less) a send waits for its frame to
 * reach the network, so a replay goes at the client's pace instead of piling up ahead of it
 * (and being cut at the cap).
 */
const BACKPRESSURE_BYTES = 64 * 1024;
/**
 * A client that takes no frame at all for this long has stopped reading: sends stop waiting
 * for it, so what it leaves unread grows to the cap and it is closed (4413), instead of its
 * events queueing in the stream where no cap sees them.
 */
const STALLED_MS = 5_000;

/**
 * Writes a frame; a socket already holding more than the cap unread is closed with 4413
 * instead (once: a closing socket takes no more frames). Resolves at once while little is
 * unread, else when the frame is flushed or the client is deemed stalled.
 */
function writer(socket: WebSocket, stream: Corkable, serving: SocketServerOptions): (frame: string) => Promise<void> | undefined {
  let stalled = false;
  const waitPast = Math.min(BACKPRESSURE_BYTES, serving.maxBufferedBytes / 4);
  const batch = new WriteBatch(stream, () => socket.bufferedAmount);
  return (frame) => {
    if (socket.readyState !== socket.OPEN) return undefined;
    if (serving.slowConsumer(serving.transport, batch)) {
      socket.close(CLOSE_SLOW_CONSUMER, SLOW_CONSUMER_REASON);
      return undefined;
    }
    batch.hold();
    if (socket.bufferedAmount < waitPast || stalled) {
      socket.send(frame, stalled ? () => (stalled = false) : undefined);
      return undefined;
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        stalled = true;
        resolve();
      }, STALLED_MS);
      socket.send(frame, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  };
}

/** Returns the function that stops it; 0 sends nothing and never terminates. */
function keepAlive(socket: WebSocket, intervalMs: number, tick: () => void): () => void {
  if (!(intervalMs > 0 && Number.isFinite(intervalMs))) return () => {};
  let awaitingPong = false;
  socket.on("pong", () => (awaitingPong = false));
  const timer = setInterval(() => {
    if (socket.readyState !== socket.OPEN) return;
    if (awaitingPong) return socket.terminate();
    awaitingPong = true;
    socket.ping();
    tick();
  }, intervalMs);
  return () => clearInterval(timer);
}
