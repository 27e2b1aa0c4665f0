/**
 * The per-user caps on open sockets and streams (WS_MAX_SOCKETS_PER_USER,
 * SSE_MAX_STREAMS_PER_USER), held by each connection from admission until it closes, however
 * it closes. The request pipeline hands one `Connection` to each socket and stream.
 */

/** Per-user counts of one kind of connection. */
export class Slots {
  readonly #held = new Map<string, number>();
  total = 0;

  constructor(readonly max: number) {}

  take(userId: string): boolean {
    const held = this.#held.get(userId) ?? 0;
    if (held >= this.max) return false;
    this.#held.set(userId, held + 1);
    this.total++;
    return true;
  }

  give(userId: string): void {
    const left = (this.#held.get(userId) ?? 1) - 1;
    if (left > 0) this.#held.set(userId, left);
    else this.#held.delete(userId);
    this.total--;
  }
}

/**
 * One socket or stream's hold on its user's slot. The transport calls `close` from the
 * connection's own close event, synchronously, whatever else is pending; a `hold` that
 * resolves after that (the token was still being checked when the client vanished) takes
 * nothing. So every way out releases exactly what was taken.
 */
export class Connection {
  #userId: string | null = null;
  #closed = false;

  constructor(private readonly slots: Slots) {}

  /** "held", "full" (the user holds every slot already) or "closed" (the connection is gone). */
  hold(userId: string): "held" | "full" | "closed" {
    if (this.#closed) return "closed";
    if (this.#userId !== null) return "held";
    if (!this.slots.take(userId)) return "full";
    this.#userId = userId;
    return "held";
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#userId !== null) this.slots.give(this.#userId);
  }
}
