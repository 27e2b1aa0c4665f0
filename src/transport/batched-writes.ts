/**
 * Holds a stream's writes until the current turn of the event loop has run, so the frames it
 * produced (a replay page: hundreds) leave in one write instead of one system call each. Corks
 * nest (`ws` corks each frame's header and payload itself). Released with `setImmediate`, not
 * `process.nextTick`: a tick runs after the first microtask, between two frames of a page that
 * are sent from a chain of promises.
 *
 * What is held still counts in the stream's unread bytes (`writableLength`, `bufferedAmount`),
 * yet the client was never offered it: `flush` lets it go first, so the slow-consumer cap
 * judges only what the client left unread.
 */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

export class WriteBatch {
  #held = false;

  /** @param unread the stream's bytes not yet taken by the network, held ones included */
  constructor(
    private readonly stream: Corkable,
    readonly unread: () => number,
  ) {}

  /** Call before each write: holds it (and the rest of this turn's) until the turn ends. */
  hold(): void {
    if (this.#held) return;
    this.#held = true;
    this.stream.cork();
    setImmediate(() => this.flush());
  }

  /** Lets what is held go now. */
  flush(): void {
    if (!this.#held) return;
    this.#held = false;
    this.stream.uncork();
  }
}
