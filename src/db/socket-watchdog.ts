/**
 * Closes a pooled connection whose network went silent for good.
 *
 * A statement past its bound fails for its caller and is cancelled (client.ts), but its
 * connection stays in the pool: when the network dropped it without a word (a NAT or firewall
 * that forgot it, a database host gone in a failover), nothing ever answers on it, and every
 * statement the pool gives it fails in its bound until TCP gives up, minutes later (with an
 * acknowledging middlebox, never). So each connection's socket notes since when it has waited
 * for an answer: bytes written, none read. After a statement timed out, a socket still waiting
 * `deadAfterMs` later (longer than any bounded statement plus its cancel) is destroyed;
 * postgres.js fails what was sent on it (CONNECTION_DESTROYED, an outage to every caller) and
 * opens a new connection for the next statement. Work with no bound (migrations, waiting for
 * the migration lock) may wait on its socket that long: while any runs, nothing is closed.
 *
 * Over TLS, postgres.js wraps the socket after the handshake request and writes through the
 * wrapper, so the socket's own `write` no longer sees the traffic; its byte counters still do.
 * Such a socket is sampled every quarter of `deadAfterMs` instead: bytes written since the
 * last sample with none read means waiting (a sample that saw both is taken as answered, so an
 * answered connection is never closed; a request sent right after an answer is seen at its
 * next write).
 *
 * Our own code, not a library's: postgres.js has no statement timeout, and Node exposes no
 * TCP_USER_TIMEOUT; its `socket` option is where a pool's sockets can be seen.
 */
import net from "node:net";

interface Tracked {
  /** When bytes were written with none read since; null when nothing is awaited. */
  waitingSince: number | null;
  /** Bytes our `write` saw, and the socket's counters at the last sample (TLS: see above). */
  seen: number;
  read: number;
  written: number;
}

/** What postgres.js passes its `socket` option: the parsed URL's hosts, ports and unix path. */
interface SocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
}

export interface SocketWatchdogOptions {
  /** How long a socket may wait for an answer before a timed-out statement gets it closed. */
  deadAfterMs: number;
  now?: () => number;
}

export class SocketWatchdog {
  readonly #sockets = new Map<net.Socket, Tracked>();
  readonly #deadAfterMs: number;
  readonly #now: () => number;
  #unbounded = 0;
  #timer: NodeJS.Timeout | null = null;
  #sampler: NodeJS.Timeout | null = null;
  #nextHost = 0;

  constructor(options: SocketWatchdogOptions) {
    this.#deadAfterMs = options.deadAfterMs;
    this.#now = options.now ?? performance.now.bind(performance);
  }

  /** postgres.js's `socket` option: connects as postgres.js would (its hosts in turn), watched. */
  readonly open = (options: SocketOptions): net.Socket => {
    const index = this.#nextHost++ % options.host.length;
    const socket = options.path ? net.connect(options.path) : net.connect(options.port[index] ?? 5432, options.host[index]);
    return this.track(socket);
  };

  track(socket: net.Socket): net.Socket {
    const tracked: Tracked = { waitingSince: null, seen: 0, read: 0, written: 0 };
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      tracked.waitingSince ??= this.#now();
      const [data] = args;
      tracked.seen += typeof data === "string" ? Buffer.byteLength(data) : ((data as Uint8Array | undefined)?.byteLength ?? 0);
      return write(...args);
    }) as typeof socket.write;
    socket.on("data", () => (tracked.waitingSince = null));
    socket.once("close", () => this.#sockets.delete(socket));
    this.#sockets.set(socket, tracked);
    this.#sampler ??= setInterval(() => this.sample(), Math.max(this.#deadAfterMs / 4, 250)).unref();
    return socket;
  }

  /** For sockets whose traffic our `write` does not see (TLS): waiting, from their byte counters. */
  sample(): void {
    const now = this.#now();
    for (const [socket, tracked] of this.#sockets) {
      const { bytesRead: read, bytesWritten: written } = socket;
      const unseen = written - tracked.seen > 0;
      if (unseen && read !== tracked.read) tracked.waitingSince = null;
      else if (unseen && written !== tracked.written) tracked.waitingSince ??= now;
      tracked.read = read;
      tracked.written = written;
    }
  }

  /** A statement got no answer within its bound: a socket still waiting `deadAfterMs` from now is closed then. */
  suspect(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      this.sweep();
    }, this.#deadAfterMs).unref();
  }

  /** Destroys the sockets that have waited longer than `deadAfterMs`; how many. */
  sweep(): number {
    if (this.#unbounded > 0) return 0;
    const cutoff = this.#now() - this.#deadAfterMs;
    let closed = 0;
    for (const [socket, { waitingSince }] of this.#sockets) {
      if (waitingSince === null || waitingSince > cutoff || socket.destroyed) continue;
      this.#sockets.delete(socket);
      const error = Object.assign(new Error(`no answer from the database for ${this.#deadAfterMs} ms: connection closed`), { code: "CONNECTION_DESTROYED" });
      socket.destroy(error);
      closed++;
    }
    return closed;
  }

  /** Runs `fn`, work with no bound, while no socket is closed for waiting. */
  async unbounded<T>(fn: () => Promise<T>): Promise<T> {
    this.#unbounded++;
    try {
      return await fn();
    } finally {
      this.#unbounded--;
    }
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#sampler) clearInterval(this.#sampler);
    this.#timer = this.#sampler = null;
  }
}
