/**
 * Admission for replay pages: at most `perUser` pages of one user and `total` pages of the
 * whole process are read, prepared and sent at once; the rest wait their turn, first come
 * first served. A caller takes its user's slot before a process slot, so one user's many
 * waiting replays queue behind each other and never fill the process queue ahead of others.
 *
 * A dozen lines of our own: the installed libraries limit rates (rate-limiter-flexible), not
 * work in flight, and p-limit is only a transitive dependency here.
 */
class Semaphore {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(private readonly size: number) {
    this.#free = size;
  }

  /** No slot taken and nobody waiting. */
  get unused(): boolean {
    return this.#free === this.size;
  }

  async acquire(): Promise<void> {
    if (this.#free > 0 && this.#waiting.length === 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  /** Hands the slot straight to the next waiter, if any. */
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

export class ReplayGate {
  readonly #total: Semaphore;
  readonly #users = new Map<string, Semaphore>();

  constructor(
    total: number,
    private readonly perUser: number,
  ) {
    this.#total = new Semaphore(total);
  }

  /** Runs `work` once both the user's and a process slot are free. */
  async run<T>(userId: string, work: () => Promise<T>): Promise<T> {
    let user = this.#users.get(userId);
    if (!user) this.#users.set(userId, (user = new Semaphore(this.perUser)));
    await user.acquire();
    try {
      await this.#total.acquire();
      try {
        return await work();
      } finally {
        this.#total.release();
      }
    } finally {
      user.release();
      if (user.unused) this.#users.delete(userId);
    }
  }
}
