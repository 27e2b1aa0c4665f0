import { hashNames, send } from "./hms-webhook-post.js";
import type { HmsWebhook } from "./hms-webhooks.js";

/**
 * Delivers webhooks the way 100ms documents it (reference §4.1): JSON POST to one URL with
 * static custom headers; only HTTP 200 is success; otherwise up to three retries, each a
 * fixed delay after the previous attempt finished. Plus test-only chaos (drops, holds,
 * duplicates, reordering, latency), reproducible through a seeded PRNG.
 *
 * Ordering contract without chaos: first attempts go out one at a time in production order
 * (the next waits for the previous response), so a receiver sees events in order; retries
 * run on their own timers and may interleave with later events, as with 100ms.
 */
export interface WebhookTarget {
  url: string;
  /** Static headers sent on every request (100ms's authentication mechanism, §4.2). */
  headers?: Record<string, string>;
  /** Delay before retry n, measured from the end of the previous attempt. Default [1000, 3000, 10000]. */
  retryDelaysMs?: number[];
  /** Per attempt; a timeout is recorded like a network error (status null). Default 5000. */
  timeoutMs?: number;
  /** HIPAA workspace: sign every body (`x-100ms-signature`, lowercase hex HMAC-SHA256). */
  signingSecret?: string;
  /** HIPAA workspace: `room_name` and `user_name` arrive SHA-256-hashed (reference §5). */
  hashNames?: boolean;
}

export interface WebhookChaos {
  /** Probability (0..1) that an event is delivered a second time (same envelope, same id). */
  duplicate?: number;
  /** Hold this many events, then deliver them in random order (flushWebhooks releases a partial window). */
  shuffleWindow?: number;
  /** Latency added between producing an event and its first attempt. */
  delayMs?: number;
  /** Re-seeds the PRNG behind duplicate/shuffle decisions. */
  seed?: number;
}

export interface WebhookDelivery {
  id: string;
  type: HmsWebhook["type"];
  /** 1 for the first attempt, 2–4 for retries; a duplicate copy starts again at 1. */
  attempt: number;
  /** HTTP status, or null for a network error or timeout. */
  status: number | null;
  /** Date.now() when the attempt started. */
  at: number;
  /** A replay from the delivery log (`is_replay: true`). */
  replay?: boolean;
}

export type ReleaseOrder = "asis" | "reverse" | "shuffle";

interface Job {
  event: HmsWebhook;
  attempt: number;
  readyAt: number;
}

const DEFAULT_RETRY_DELAYS_MS = [1_000, 3_000, 10_000];
const DEFAULT_SEED = 0x100;
const CLOSE_BOUND_MS = 2_000;

export class WebhookSender {
  readonly deliveries: WebhookDelivery[] = [];
  /** Every event produced while configured, in production order (dropped ones included). */
  readonly produced: HmsWebhook[] = [];
  /** Told of every delivery once it ended: 200, or its last retry failed (the delivery log). */
  onDelivered: (event: HmsWebhook, status: number | null) => void = () => {};
  #target: Required<WebhookTarget> | null = null;
  #chaos = { duplicate: 0, shuffleWindow: 0, delayMs: 0 };
  #random = mulberry32(DEFAULT_SEED);
  #toDrop = 0;
  #held: HmsWebhook[] | null = null;
  #window: HmsWebhook[] = [];
  readonly #queue: Job[] = [];
  #pumping = false;
  #pending = 0;
  #idleWaiters: Array<() => void> = [];
  readonly #sleepers = new Map<NodeJS.Timeout, () => void>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #abort = new AbortController();
  #closed = false;

  /** Until this is called nothing is produced or sent. */
  configure(target: WebhookTarget): void {
    const { url, headers = {}, retryDelaysMs = DEFAULT_RETRY_DELAYS_MS, timeoutMs = 5_000, signingSecret = "", hashNames = false } = target;
    this.#target = { url, headers: { ...headers }, retryDelaysMs: [...retryDelaysMs], timeoutMs, signingSecret, hashNames };
  }

  get configured(): boolean {
    return this.#target !== null && !this.#closed;
  }

  /** Merges over the current chaos settings. */
  setChaos(options: WebhookChaos): void {
    const { seed, ...rest } = options;
    this.#chaos = { ...this.#chaos, ...withoutUndefined(rest) };
    if (seed !== undefined) this.#random = mulberry32(seed);
  }

  /** The next `count` produced events are lost: never attempted, never recorded as deliveries. */
  drop(count: number): void {
    this.#toDrop += count;
  }

  hold(): void {
    this.#held ??= [];
  }

  /** Sends everything held since hold(), bypassing the shuffle window and random duplicates. */
  release(options: { order?: ReleaseOrder; duplicates?: boolean } = {}): void {
    const held = this.#held ?? [];
    this.#held = null;
    const ordered = options.order === "reverse" ? held.reverse() : options.order === "shuffle" ? this.#shuffle(held) : held;
    // duplicates: the whole sequence goes out a second time after the first pass.
    this.#enqueue(options.duplicates ? [...ordered, ...ordered] : ordered);
  }

  /** Entry point for the model: one produced event. */
  emit(produced: HmsWebhook): void {
    if (!this.configured) return;
    const event = this.#target!.hashNames ? hashNames(produced) : produced;
    this.produced.push(event);
    if (this.#toDrop > 0) return void (this.#toDrop -= 1);
    if (this.#held) return void this.#held.push(event);
    if (this.#chaos.shuffleWindow > 1) {
      this.#window.push(event);
      if (this.#window.length >= this.#chaos.shuffleWindow) this.#flushWindow();
      return;
    }
    this.#dispatch([event]);
  }

  /** Resolves once nothing is queued, in flight or awaiting a retry (held events excepted). */
  async flush(): Promise<void> {
    this.#flushWindow();
    if (this.#pending === 0 || this.#closed) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Cancels waits and retries; gives in-flight requests up to `boundMs`, then aborts them. */
  async close(boundMs = CLOSE_BOUND_MS): Promise<void> {
    this.#closed = true;
    for (const [timer, wake] of this.#sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.#sleepers.clear();
    let boundTimer: NodeJS.Timeout | undefined;
    const bound = new Promise((resolve) => (boundTimer = setTimeout(resolve, boundMs)));
    await Promise.race([Promise.allSettled([...this.#inFlight]), bound]);
    clearTimeout(boundTimer);
    this.#abort.abort();
    this.#pending = 0;
    this.#settleIdle();
  }

  #flushWindow(): void {
    if (this.#window.length > 0) this.#dispatch(this.#shuffle(this.#window.splice(0)));
  }

  #dispatch(events: HmsWebhook[]): void {
    const { duplicate } = this.#chaos;
    this.#enqueue(events.flatMap((event) => (this.#random() < duplicate ? [event, event] : [event])));
  }

  #enqueue(events: HmsWebhook[]): void {
    const readyAt = Date.now() + this.#chaos.delayMs;
    for (const event of events) this.#queue.push({ event, attempt: 1, readyAt });
    this.#pending += events.length;
    void this.#pump();
  }

  /** First attempts, strictly one after another (see the ordering contract above). */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    for (let job = this.#queue.shift(); job && !this.#closed; job = this.#queue.shift()) {
      await this.#sleep(job.readyAt - Date.now());
      if (!this.#closed) await this.#attempt(job);
    }
    this.#pumping = false;
  }

  async #attempt(job: Job): Promise<void> {
    const target = this.#target;
    if (!target || this.#closed) return;
    const at = Date.now();
    const status = await this.#post(target, job.event);
    this.deliveries.push({ id: job.event.id, type: job.event.type, attempt: job.attempt, status, at });
    const retryDelay = target.retryDelaysMs[job.attempt - 1];
    if (status === 200 || retryDelay === undefined || this.#closed) {
      if (!this.#closed) this.onDelivered(job.event, status);
      return this.#jobDone();
    }
    void this.#sleep(retryDelay).then(() => this.#attempt({ ...job, attempt: job.attempt + 1 }));
  }

  /** One replayed delivery (no retries), recorded like any attempt. */
  async replay(event: HmsWebhook & { is_replay: true }): Promise<number | null> {
    const target = this.#target;
    if (!target || this.#closed) return null;
    const at = Date.now();
    const status = await this.#post(target, event);
    this.deliveries.push({ id: event.id, type: event.type, attempt: 1, status, at, replay: true });
    return status;
  }

  /** Never rejects: a network error, timeout or abort is status null. */
  async #post(target: Required<WebhookTarget>, event: HmsWebhook): Promise<number | null> {
    const request = send(target, event, this.#abort.signal);
    this.#inFlight.add(request);
    try {
      return await request;
    } finally {
      this.#inFlight.delete(request);
    }
  }

  #jobDone(): void {
    this.#pending = Math.max(0, this.#pending - 1);
    if (this.#pending === 0) this.#settleIdle();
  }

  #settleIdle(): void {
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** A timer close() can cut short; resolves immediately for ms <= 0. */
  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleepers.delete(timer);
        resolve();
      }, ms);
      this.#sleepers.set(timer, resolve);
    });
  }

  /** Fisher–Yates with the seeded PRNG; returns a new array. */
  #shuffle<T>(items: T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.#random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** Small, fast, seedable PRNG (mulberry32): uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function withoutUndefined<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}
