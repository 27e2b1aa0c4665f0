/**
 * Runs queued items in batches, up to `lanes` batches at once, keeping each key's items in
 * the order queued and never in two running batches at once (a key: the webhook queue's room).
 *
 * A second batch starts only when the newest running one has run `splitAfterMs`: against a
 * near database a batch ends within milliseconds and whatever arrived meanwhile waits for it,
 * so batches stay large and transactions few, exactly as with one lane. Against a far one (a
 * round trip of 150 ms, a batch of seven takes a second) arrivals no longer wait a whole batch
 * behind the one running: throughput and latency stop hanging on the round-trip time.
 *
 * Our own code: the queue libraries we looked at (p-queue, fastq) run single tasks with a
 * concurrency, not batches drawn from a keyed queue with per-key order.
 */
export interface BatchLanesOptions<T> {
  /** Items with one key run in the order queued, one batch at a time. */
  key(item: T): string;
  /** Runs a batch; a rejection is reported to `onError` and the batch counts as done. */
  run(batch: T[]): Promise<void>;
  onError(error: Error): void;
  /**
   * Called when nothing is queued or running: more items to queue (a backlog read), or null
   * for none. Until it resolves the lanes are not idle.
   */
  refill?(): Promise<readonly T[]> | null;
  lanes: number;
  batchSize: number;
  /** How long the newest running batch runs before another may start (ms). */
  splitAfterMs: number;
  now?: () => number;
}

export class BatchLanes<T> {
  #queued: T[] = [];
  readonly #busy = new Set<string>();
  #running = 0;
  #newestStart = 0;
  #timer: NodeJS.Timeout | null = null;
  #scheduled = false;
  #refilling = false;
  #stopped = false;
  #idle: Array<() => void> = [];

  constructor(private readonly options: BatchLanesOptions<T>) {}

  /** Items queued and not yet in a running batch. */
  get queued(): number {
    return this.#queued.length;
  }

  /** Batches running now. */
  get running(): number {
    return this.#running;
  }

  /** Queues items; batches start on the next turn, so items pushed together go together. */
  push(items: readonly T[]): void {
    if (this.#stopped || items.length === 0) return;
    this.#queued.push(...items);
    this.#soon();
  }

  /** Starts what may start; drained, asks for a refill. */
  kick(): void {
    if (!this.#stopped) this.#soon();
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.#active()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Starts no more batches (what is queued stays unrun); resolves once the running ones end. */
  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#queued = [];
    return this.idle();
  }

  #soon(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#fill();
    });
  }

  #fill(): void {
    const now = this.options.now ?? Date.now;
    while (!this.#stopped && this.#running < this.options.lanes && this.#queued.length > 0) {
      const waitMs = this.#running === 0 ? 0 : this.#newestStart + this.options.splitAfterMs - now();
      if (waitMs > 0) {
        this.#timer ??= setTimeout(() => ((this.#timer = null), this.#fill()), waitMs);
        this.#timer.unref();
        return;
      }
      const batch = this.#take();
      if (batch.length === 0) break; // every queued key is in a running batch
      this.#start(batch);
    }
    this.#settle();
  }

  /**
   * The oldest items, up to batchSize, whose keys are not running. A key's later items cannot
   * overtake an item left out: left out, it was either behind a full batch (so are they) or
   * behind its own running key (so are they).
   */
  #take(): T[] {
    const batch: T[] = [];
    const rest: T[] = [];
    for (const item of this.#queued) {
      if (batch.length < this.options.batchSize && !this.#busy.has(this.options.key(item))) batch.push(item);
      else rest.push(item);
    }
    this.#queued = rest;
    return batch;
  }

  #start(batch: T[]): void {
    const keys = new Set(batch.map((item) => this.options.key(item)));
    for (const key of keys) this.#busy.add(key);
    this.#running++;
    this.#newestStart = (this.options.now ?? Date.now)();
    void this.options
      .run(batch)
      .catch((error: Error) => this.options.onError(error))
      .finally(() => {
        for (const key of keys) this.#busy.delete(key);
        this.#running--;
        this.#fill();
      });
  }

  #active(): boolean {
    return this.#running > 0 || this.#queued.length > 0 || this.#scheduled || this.#refilling;
  }

  /** Nothing queued or running: asks for a refill, and otherwise wakes who waits for idle. */
  #settle(): void {
    if (this.#active()) return;
    const refill = this.#stopped ? null : (this.options.refill?.() ?? null);
    if (refill) {
      this.#refilling = true;
      void refill
        .then((items) => this.#queued.push(...(this.#stopped ? [] : items)), (error: Error) => this.options.onError(error))
        .finally(() => {
          this.#refilling = false;
          this.#fill();
        });
      return;
    }
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
