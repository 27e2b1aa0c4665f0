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
 * Plain TCP only (client.ts leaves TLS connections to postgres.js): over TLS postgres.js wraps
 * the socket after the handshake request, strips its listeners and writes through the wrapper,
 * and destroying the socket under the wrapper fails a later write out of every caller's reach.
 *
 * Our own code, not a library's: postgres.js has no statement timeout, and Node exposes no
 * TCP_USER_TIMEOUT; its `socket` option is where a pool's sockets can be seen.
 */
import net from "node:net";

/** Whether postgres.js will speak TLS on `url`'s connections (its `sslmode`/`ssl` parameters): no watchdog then. */
export function usesTls(url: string): boolean {
  const query = new URL(url).searchParams;
  const mode = query.get("sslmode") ?? query.get("ssl");
  return (mode !== null && mode !== "disable" && mode !== "false") || query.get("sslrootcert") === "system";
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
  /** Whether work with no bound is running (`Database.unbounded`, unbounded-scope.ts): nothing is closed then. */
  unboundedRunning: () => boolean;
  now?: () => number;
}

export class SocketWatchdog {
  /** Each socket, and since when it has waited for an answer (null: nothing asked). */
  readonly #sockets = new Map<net.Socket, { waitingSince: number | null }>();
  readonly #deadAfterMs: number;
  readonly #now: () => number;
  readonly #unboundedRunning: () => boolean;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #nextHost = 0;

  constructor(options: SocketWatchdogOptions) {
    this.#deadAfterMs = options.deadAfterMs;
    this.#unboundedRunning = options.unboundedRunning;
    this.#now = options.now ?? performance.now.bind(performance);
  }

  /** postgres.js's `socket` option: connects as postgres.js would (its hosts in turn), watched. */
  readonly open = (options: SocketOptions): net.Socket => {
    const index = this.#nextHost++ % options.host.length;
    const [host, port] = [options.host[index], options.port[index] ?? 5432];
    const socket = options.path ? net.connect(options.path) : net.connect(port, host);
    // What postgres.js sets on its own sockets (its error messages name them).
    return this.track(Object.assign(socket, { host, port }));
  };

  track(socket: net.Socket): net.Socket {
    const tracked = { waitingSince: null as number | null };
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      tracked.waitingSince ??= this.#now();
      return write(...args);
    }) as typeof socket.write;
    socket.on("data", () => (tracked.waitingSince = null));
    socket.once("close", () => this.#sockets.delete(socket));
    this.#sockets.set(socket, tracked);
    return socket;
  }

  /** A statement got no answer within its bound: a socket still waiting `deadAfterMs` from now is closed then. */
  suspect(): void {
    if (this.#stopped) return;
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      void this.sweep().then(() => {
        // One that has waited past half the wait may be dead too: look again rather than wait for another timeout.
        if (this.#oldest() >= this.#deadAfterMs / 2) this.suspect();
      });
    }, this.#deadAfterMs).unref();
  }

  /**
   * Destroys the sockets that have waited longer than `deadAfterMs`; resolves how many. Those
   * are picked now and closed after one turn of the event loop's I/O (the sweep runs from a
   * timer, and the loop polls for I/O before its next `setImmediate`): an answer already in the
   * kernel (a loop stalled past the wait) is read first, and keeps its connection.
   */
  async sweep(): Promise<number> {
    if (this.#unboundedRunning()) return 0;
    const cutoff = this.#now() - this.#deadAfterMs;
    const picked = [...this.#sockets].filter(([, { waitingSince }]) => waitingSince !== null && waitingSince <= cutoff);
    if (picked.length === 0) return 0;
    await new Promise((resolve) => setImmediate(resolve));
    let closed = 0;
    for (const [socket, tracked] of picked) {
      if (socket.destroyed || tracked.waitingSince === null || tracked.waitingSince > cutoff || this.#unboundedRunning()) continue;
      this.#sockets.delete(socket);
      socket.destroy(Object.assign(new Error(`no answer from the database for ${this.#deadAfterMs} ms: connection closed`), { code: "CONNECTION_DESTROYED" }));
      closed++;
    }
    return closed;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** How long the socket waiting longest has waited (0: none). */
  #oldest(): number {
    const now = this.#now();
    let oldest = 0;
    for (const { waitingSince } of this.#sockets.values()) if (waitingSince !== null) oldest = Math.max(oldest, now - waitingSince);
    return oldest;
  }
}
