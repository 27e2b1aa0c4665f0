/**
 * Refusals recorded without letting one account grow the append-only trail at will: the first
 * denial of an action by an actor is recorded on its own, at once, with its consultation; the
 * ones that follow within the minute are counted, and written as one record (`repeats`: how
 * many, consultation null) when that minute ends or the writer flushes. Nothing is dropped: a
 * refusal is either its own record or counted in one. At most `maxActors` (actor, action) pairs
 * are tracked; the oldest is written out early to make room.
 */
import { LRUCache } from "lru-cache";
import type { AuditEntry } from "./audit.model.js";

const WINDOW_MS = 60_000;
const MAX_TRACKED = 10_000;

interface Window {
  /** Refusals after the first, not yet written. */
  repeats: number;
  /** The latest of them: its time, request and address stand on the folded record. */
  last: AuditEntry | null;
}

export class DenialFolding {
  readonly #windows: LRUCache<string, Window>;

  /** `write` receives each record to store: a first denial, or a folded record of repeats. */
  constructor(
    private readonly write: (entry: AuditEntry) => void,
    options: { windowMs?: number; maxTracked?: number } = {},
  ) {
    this.#windows = new LRUCache<string, Window>({
      max: options.maxTracked ?? MAX_TRACKED,
      ttl: options.windowMs ?? WINDOW_MS,
      // A window is written out when it ends (expiry), when evicted for room, and on flush.
      ttlAutopurge: true,
      dispose: (window) => this.#writeRepeats(window),
    });
  }

  /** Records one denial (an entry with outcome "denied"). */
  deny(entry: AuditEntry): void {
    const key = `${entry.actorId ?? entry.clientIp ?? ""}\u0000${entry.action}`;
    const window = this.#windows.get(key, { updateAgeOnGet: false });
    if (!window) {
      this.#windows.set(key, { repeats: 0, last: null });
      this.write(entry);
      return;
    }
    window.repeats++;
    window.last = entry;
  }

  /** Writes every pending count now (shutdown, tests); the next denial starts a new window. */
  flush(): void {
    this.#windows.clear();
  }

  #writeRepeats(window: Window): void {
    if (window.repeats === 0 || !window.last) return;
    this.write({ ...window.last, consultationId: null, patientId: null, repeats: window.repeats });
    window.repeats = 0;
  }
}
