/**
 * Writes read and denial records asynchronously, in batches, off the request path. A record is
 * never silently dropped: a failed write is logged and counted (`failures`), and the batch is
 * retried with backoff; only when the bounded queue overflows are records lost, and that too
 * is logged and counted. Mutations do not use this: they write their record in their own
 * transaction.
 */
import { SerialWorker } from "../kit/serial-worker.js";
import type { Logger } from "../kit/logger.js";
import type { AuditEntry } from "./audit.model.js";
import type { AuditRepo } from "./audit.repo.js";
import { DenialFolding } from "./denial-folding.js";

export interface AuditWriterOptions {
  /** Called on every failed write (metrics). */
  onFailure?: () => void;
  flushIntervalMs?: number;
  batchSize?: number;
  maxQueue?: number;
}

export class AuditWriter {
  #queue: AuditEntry[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #worker = new SerialWorker(
    () => this.#writeAll(),
    (error) => this.logger.error({ errorClass: error.name }, "audit write failed; will retry"),
  );
  #backoffMs = 0;
  #consecutiveFailures = 0;
  /** Failed write attempts (each logged). */
  failures = 0;
  /** Records lost because the queue overflowed (each time logged). */
  dropped = 0;
  readonly #denials = new DenialFolding((entry) => this.enqueue(entry));

  constructor(
    private readonly repo: AuditRepo,
    private readonly logger: Logger,
    private readonly options: AuditWriterOptions = {},
  ) {}

  enqueue(...entries: AuditEntry[]): void {
    const max = this.options.maxQueue ?? 10_000;
    const room = max - this.#queue.length;
    if (entries.length > room) {
      const lost = entries.length - Math.max(room, 0);
      this.dropped += lost;
      this.logger.error({ lost, dropped: this.dropped }, "audit queue full: records lost");
    }
    this.#queue.push(...entries.slice(0, Math.max(room, 0)));
    this.#schedule(this.options.flushIntervalMs ?? 200);
  }

  /** A refusal: recorded at once the first time in a minute, then folded into one record of repeats. */
  deny(entry: AuditEntry): void {
    this.#denials.deny(entry);
  }

  get pending(): number {
    return this.#queue.length;
  }

  /** Writes everything queued now, pending counts of repeated denials included; used on shutdown and in tests. */
  async flush(): Promise<void> {
    this.#denials.flush();
    await this.#writeQueued();
  }

  async #writeQueued(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#worker.poke();
    await this.#worker.idle();
  }

  #schedule(delayMs: number): void {
    if (this.#timer || this.#queue.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#writeQueued();
    }, delayMs + this.#backoffMs);
    this.#timer.unref();
  }

  async #writeAll(): Promise<void> {
    const size = this.options.batchSize ?? 500;
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, size);
      try {
        await this.repo.insert(batch);
        this.#queue.splice(0, batch.length);
        this.#backoffMs = 0;
        this.#consecutiveFailures = 0;
      } catch (error) {
        this.failures++;
        this.#consecutiveFailures++;
        this.options.onFailure?.();
        this.logger.error(
          { errorClass: (error as Error).name, pending: this.#queue.length, failures: this.failures },
          "audit write failed; will retry",
        );
        // The database is up but refuses something in this batch: isolate the record(s) at fault.
        if (isDataError(error) && (await this.#writeOneByOne(batch))) continue;
        this.#backoffMs = Math.min(Math.max(this.#backoffMs * 2, 500), 30_000);
        this.#schedule(0);
        return;
      }
    }
  }

  /** True when it made progress. A record the database refuses on its own is logged (ids only) and counted as dropped. */
  async #writeOneByOne(batch: AuditEntry[]): Promise<boolean> {
    let progress = false;
    for (const record of batch) {
      try {
        await this.repo.insert([record]);
        progress = true;
      } catch (error) {
        if (!isDataError(error)) return progress; // the database went away: keep it for the retry
        this.dropped++;
        progress = true;
        this.logger.error(
          { action: record.action, actorId: record.actorId, consultationId: record.consultationId, consultations: record.consultationIds?.length, dropped: this.dropped },
          "audit record refused by the database: dropped",
        );
      }
      this.#queue.splice(this.#queue.indexOf(record), 1);
    }
    this.#consecutiveFailures = 0;
    return progress;
  }
}

/** PostgreSQL refused the data itself (SQLSTATE classes 22 and 23), as opposed to being unreachable. */
function isDataError(error: unknown): boolean {
  const code = (error as { cause?: { code?: unknown }; code?: unknown }).cause?.code ?? (error as { code?: unknown }).code;
  return typeof code === "string" && /^2[23]/.test(code);
}
