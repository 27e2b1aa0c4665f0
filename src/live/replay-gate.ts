/**
 * Admission for replay pages: at most `perUser` pages of one user and `total` pages of the
 * whole process are read, prepared and sent at once; the rest wait their turn, first come
 * first served. A caller takes its user's slot before a process slot, so one user's many
 * waiting replays queue behind each other and never fill the process queue ahead of others.
 *
 * Each page is told whether its replay competes for the slots (more replays are open than the
 * user's or the process's slots), and sizes itself with `nextReplayPage`: a replay with slots
 * to spare grows its pages (fewer queries, frames sent back to back), replays that compete
 * keep theirs small (slots turn over quickly and fairly). Either way at most `total` slots
 * are held, each by one replay's turn of at most two pages of `REPLAY_PAGES.max` events.
 *
 * A few lines of our own: the installed libraries limit rates (rate-limiter-flexible), not
 * work in flight, and p-limit is only a transitive dependency here.
 */
class Semaphore {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = size;
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

/** Replay page sizes, in events. */
export const REPLAY_PAGES = {
  /** The first page of every replay: small, so the first frame goes out quickly. */
  first: 100,
  /** While the replay competes for slots: small, so they turn over quickly and fairly. */
  contended: 250,
  /** The most a page grows to with slots to spare: what bounds the events a slot holds. */
  max: 2000,
  /** How much an uncontended page grows over the previous one. */
  growth: 4,
} as const;

/** The size of a replay's next page, from its previous one (null: none yet) and its contention. */
export function nextReplayPage(previous: number | null, contended: boolean): number {
  if (previous === null) return REPLAY_PAGES.first;
  if (contended) return REPLAY_PAGES.contended;
  return Math.min(Math.max(previous, REPLAY_PAGES.contended) * REPLAY_PAGES.growth, REPLAY_PAGES.max);
}

/** What an admitted page learns from the gate, for as long as it holds its slots. */
export interface Admission {
  /** More replays are open than the slots of this replay's user, or of the process, now. */
  readonly contended: boolean;
}

/** One replay's way through the gate: each page runs through `run`; `close` once it is over. */
export interface ReplayTurns {
  run<T>(work: (admission: Admission) => Promise<T>): Promise<T>;
  close(): void;
}

interface UserSlots {
  slots: Semaphore;
  replays: number;
}

export class ReplayGate {
  readonly #total: Semaphore;
  readonly #users = new Map<string, UserSlots>();
  #replays = 0;

  constructor(
    private readonly total: number,
    private readonly perUser: number,
  ) {
    this.#total = new Semaphore(total);
  }

  /** Opens a replay of `userId`'s; it counts towards contention until closed. */
  open(userId: string): ReplayTurns {
    let user = this.#users.get(userId);
    if (!user) this.#users.set(userId, (user = { slots: new Semaphore(this.perUser), replays: 0 }));
    const slots = user;
    slots.replays++;
    this.#replays++;
    const isContended = () => slots.replays > this.perUser || this.#replays > this.total;
    const admission: Admission = {
      get contended() {
        return isContended();
      },
    };
    let open = true;
    return {
      run: (work) => this.#run(slots, () => work(admission)),
      close: () => {
        if (!open) return;
        open = false;
        slots.replays--;
        this.#replays--;
        if (slots.replays === 0) this.#users.delete(userId);
      },
    };
  }

  /** Runs one page of a replay of its own once both the user's and a process slot are free. */
  async run<T>(userId: string, work: (admission: Admission) => Promise<T>): Promise<T> {
    const turns = this.open(userId);
    try {
      return await turns.run(work);
    } finally {
      turns.close();
    }
  }

  async #run<T>(user: UserSlots, work: () => Promise<T>): Promise<T> {
    await user.slots.acquire();
    try {
      await this.#total.acquire();
      try {
        return await work();
      } finally {
        this.#total.release();
      }
    } finally {
      user.slots.release();
    }
  }
}
