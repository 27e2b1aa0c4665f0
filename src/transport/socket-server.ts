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
 * The connection-init timeout (4408) is graphql-ws's, timed here so its timer goes once the init
 * is in (graphql-ws's stays referenced while the socket is open). An idle socket holds one record
 * (ServedSocket) and no closure of its own: thousands stay open for hours.
 */
import type { IncomingMessage } from "node:http";
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, makeServer, type ServerOptions } from "graphql-ws";
import type { RawData, WebSocket, WebSocketServer } from "ws";
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
  const { connectionInitWaitTimeout: initMs = 3_000, onConnect } = options;
  const server = makeServer<P, E>({
    ...options,
    connectionInitWaitTimeout: 0,
    onConnect: (ctx) => {
      SERVED.get(ctx.extra.socket)?.initialised();
      return onConnect?.(ctx);
    },
  });
  wsServer.on("connection", (socket: WebSocket, request: IncomingMessage) => {
    const connection = serving.connection();
    const served = new ServedSocket(socket, request.socket, serving.codec(socket), serving, connection);
    SERVED.set(socket, served);
    if (served.protocol === GRAPHQL_TRANSPORT_WS_PROTOCOL && initMs > 0 && Number.isFinite(initMs)) {
      served.initWait = setTimeout(initTimedOut, initMs, socket);
    }
    served.closed = server.opened(served, { socket, clientIp: serving.clientIp(request), connection } as E);
    const intervalMs = serving.pingIntervalMs;
    if (intervalMs > 0 && Number.isFinite(intervalMs)) {
      socket.on("pong", onPong);
      served.keepAlive = setInterval(keepAliveTick, intervalMs, served);
    }
    socket.on("close", onClose);
  });
  return {
    dispose: async () => {
      for (const client of wsServer.clients) client.close(1001, "Going away");
      wsServer.removeAllListeners();
      await new Promise<void>((resolve, reject) => wsServer.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** Each open socket's record: the listeners and the keep-alive tick are shared functions that find it here. It is the socket graphql-ws writes to. */
const SERVED = new WeakMap<WebSocket, ServedSocket>();

class ServedSocket {
  readonly protocol: string;
  /** graphql-ws's clean-up, called once the socket has closed. */
  closed: ((code: number, reason: string) => Promise<void>) | null = null;
  keepAlive: NodeJS.Timeout | null = null;
  /** Until `connection_init` comes in. */
  initWait: NodeJS.Timeout | null = null;
  awaitingPong = false;
  /** A client that took nothing for STALLED_MS: sends no longer wait for it. */
  stalled = false;
  #receive: ((raw: string) => Promise<void>) | null = null;
  readonly #batch: WriteBatch;

  constructor(
    readonly socket: WebSocket,
    stream: Corkable,
    readonly codec: SocketCodec,
    readonly serving: SocketServerOptions,
    /** The socket's hold on its user's slot: closed by the socket's own close event, first of all. */
    readonly connection: Connection,
  ) {
    this.protocol = codec.protocol;
    this.#batch = new WriteBatch(stream, () => socket.bufferedAmount);
  }

  async send(data: string): Promise<void> {
    let flushed: Promise<void> | undefined;
    for (const frame of this.codec.outgoing(data)) flushed = this.write(this.serving.expand(frame)) ?? flushed;
    await flushed;
  }

  initialised(): void {
    if (this.initWait) clearTimeout(this.initWait);
    this.initWait = null;
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  onMessage(handle: (data: string) => Promise<void>): void {
    this.#receive = this.codec.incoming(handle);
    this.socket.on("message", onMessage);
  }

  /** Not awaited: a subscribe message is pending while its subscription runs, and an async listener would keep its raw bytes all that time. */
  received(raw: RawData): void {
    let handled: Promise<void>;
    try {
      handled = this.#receive!(String(raw));
    } catch (error) {
      return this.failed(error);
    }
    handled.catch((error: unknown) => this.failed(error));
  }

  failed(error: unknown): void {
    this.serving.logger.error({ errorClass: (error as Error).name }, "WebSocket message failed");
    this.socket.close(CloseCode.InternalServerError, "Internal server error");
  }

  /**
   * Writes a frame; a socket already holding more than the cap unread is closed with 4413
   * instead (once: a closing socket takes no more frames). Resolves at once while little is
   * unread, else when the frame is flushed or the client is deemed stalled.
   */
  write(frame: string): Promise<void> | undefined {
    const { socket, serving } = this;
    if (socket.readyState !== socket.OPEN) return undefined;
    if (serving.slowConsumer(serving.transport, this.#batch)) {
      socket.close(CLOSE_SLOW_CONSUMER, SLOW_CONSUMER_REASON);
      return undefined;
    }
    this.#batch.hold();
    if (socket.bufferedAmount < Math.min(BACKPRESSURE_BYTES, serving.maxBufferedBytes / 4) || this.stalled) {
      socket.send(frame, this.stalled ? () => (this.stalled = false) : undefined);
      return undefined;
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.stalled = true;
        resolve();
      }, STALLED_MS);
      socket.send(frame, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

function onMessage(this: WebSocket, raw: RawData): void {
  SERVED.get(this)?.received(raw);
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  const served = SERVED.get(this);
  if (!served) return;
  SERVED.delete(this);
  // Before graphql-ws's own clean-up, which awaits each subscription's end (and stops at
  // the first that throws): the slot is free whatever happens there.
  served.connection.close();
  if (served.keepAlive) clearInterval(served.keepAlive);
  served.initialised();
  void served.closed?.(code, String(reason));
}

function initTimedOut(socket: WebSocket): void {
  socket.close(CloseCode.ConnectionInitialisationTimeout, "Connection initialisation timeout");
}

function onPong(this: WebSocket): void {
  const served = SERVED.get(this);
  if (served) served.awaitingPong = false;
}

/**
 * Every `pingIntervalMs`: a ping (and the codec's keep-alive frame, if any); a socket that has
 * not answered the previous ping is terminated, as `useServer` does. 0 sends nothing.
 */
function keepAliveTick(served: ServedSocket): void {
  const { socket } = served;
  if (socket.readyState !== socket.OPEN) return;
  if (served.awaitingPong) return socket.terminate();
  served.awaitingPong = true;
  socket.ping();
  const frame = served.codec.keepAliveFrame();
  if (frame) served.write(frame);
}

/** Past this many bytes unread (or a quarter of the cap, if less) a send waits for its frame to reach the network, so a replay goes at the client's pace instead of piling up ahead of it (and being cut at the cap). */
const BACKPRESSURE_BYTES = 64 * 1024;
/** A client that takes no frame at all for this long has stopped reading: sends stop waiting for it, so what it leaves unread grows to the cap and it is closed (4413), instead of its events queueing in the stream where no cap sees them. */
const STALLED_MS = 5_000;
