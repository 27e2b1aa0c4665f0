/**
 * The queue between a stream's sender and its consumer (graphql-ws, graphql-sse, the legacy
 * protocol), read as an async iterator: the sender hands events over a few at a time and waits
 * until the consumer asks for more with none left (graphql-ws asks for the next event once it
 * has sent one), so a stream holds little more than what is being sent. The sender starts on
 * the first `next`: a subscription ended before it is read never starts.
 *
 * Our own, not a library's: @graphql-yoga's Repeater made about eight promises per event (a
 * tenth of a replay's CPU), and it-pushable held 3.6 KB more per idle socket than this (heap
 * snapshots at 5,000 sockets) and its `onEmpty` settles before the consumer has sent what it
 * took, so the sender ran ahead of its time slices.
 */
const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

type Taker<T> = { resolve: (step: IteratorResult<T, undefined>) => void; reject: (error: unknown) => void };

export abstract class HandOver<T> implements AsyncIterableIterator<T> {
  #started = false;
  #stopped = false;
  /** Handed over, not yet taken by the consumer. */
  readonly #ready: T[] = [];
  /** The consumer waiting for the next value. */
  #taker: Taker<T> | null = null;
  /** The error the consumer is to throw once it has taken what was handed over. */
  #failure: unknown = null;
  /** The sender waiting for the consumer to take everything handed over (or for the end). */
  #drained: (() => void) | null = null;

  /** The sender: runs from the first `next` until the stream stops. */
  protected abstract start(): void;
  /** The stream ended without ever starting (its consumer returned first). */
  protected abstract endedUnstarted(): void;
  /** The stream stopped: whatever the sender waits on should let it see `stopped`. */
  protected abstract onStop(): void;

  protected get stopped(): boolean {
    return this.#stopped;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (!this.#started) {
      this.#started = true;
      if (!this.#stopped) this.start();
    }
    const value = this.#ready.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.#failure !== null) {
      const failure = this.#failure;
      this.#failure = null;
      return Promise.reject(failure);
    }
    if (this.#stopped) return Promise.resolve(DONE);
    // Nothing left: the consumer has sent everything it was handed.
    this.#drained?.();
    return new Promise((resolve, reject) => (this.#taker = { resolve, reject }));
  }

  /** The consumer is done (the client completed, or the socket closed). */
  return(): Promise<IteratorResult<T, undefined>> {
    this.#ready.length = 0;
    if (!this.#started && !this.#stopped) {
      this.#started = true;
      this.endedUnstarted();
    }
    this.stop();
    return Promise.resolve(DONE);
  }

  throw(): Promise<IteratorResult<T, undefined>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the stream: the consumer takes what was handed over, then throws `error` if any. */
  stop(error?: Error): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const taker = this.#taker;
    this.#taker = null;
    if (error !== undefined) {
      if (taker) taker.reject(error);
      else this.#failure = error;
    } else taker?.resolve(DONE);
    this.onStop();
    this.#drained?.();
  }

  protected handOver(value: T): void {
    const taker = this.#taker;
    if (taker) {
      this.#taker = null;
      taker.resolve({ value, done: false });
    } else this.#ready.push(value);
  }

  /** Resolves once the consumer has taken everything handed over and asks for more, or on stop. */
  protected async taken(): Promise<void> {
    if (this.#ready.length > 0 && !this.#stopped) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#drained = null;
  }
}
