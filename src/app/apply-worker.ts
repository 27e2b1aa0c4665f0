/**
 * Applying webhooks on a worker thread (WEBHOOK_APPLY=worker, PostgreSQL only): the main
 * thread stores and acknowledges them and serves GraphQL and sockets; the thread runs the
 * webhook queue on a pool of its own (apply-thread.ts). Applying is most of a webhook's
 * JavaScript work, and on the acknowledging loop it delays the acknowledgements.
 *
 * Nothing acknowledged depends on the thread: every envelope handed over is in the inbox
 * already. When the thread dies, this logs it and starts another, whose backlog pass applies
 * what the first left; the inbox claim in the applying transaction keeps that exactly once.
 * What the thread reports (outcomes, batch sizes, 100ms calls, its log lines) reaches this
 * process's metrics and logger.
 */
import { Worker } from "node:worker_threads";
import type { ApplyReports } from "./apply-services.js";
import type { Config } from "../config/config.js";
import type { HmsCall } from "../hms/client.js";
import type { Logger } from "../kit/logger.js";
import { carriedBy, traceparentOf } from "../kit/tracing.js";
import type { Envelope } from "../webhooks/envelope.js";
import type { ProcessOutcome } from "../webhooks/webhook-processor.js";
import type { WebhookApplier } from "../webhooks/webhook-queue.js";

export type ToThread =
  | { kind: "enqueue"; envelope: Envelope; traceparent: string | null }
  | { kind: "retry"; id: number; envelopes: readonly Envelope[] }
  | { kind: "idle"; id: number }
  | { kind: "stop" };

export interface ThreadReports {
  outcomes: Array<[type: string, outcome: ProcessOutcome | "failed"]>;
  batches: number[];
  hmsCalls: HmsCall[];
}

export type FromThread =
  | ({ kind: "reports"; queued: number } & ThreadReports)
  | { kind: "log"; line: string }
  | { kind: "idle"; id: number }
  | { kind: "retried"; id: number; count: number };

export interface ApplyThreadData {
  config: Config;
  /** The main logger's level (tests log at another level than the config's). */
  logLevel: string;
  /** Set when this process traces (app/tracing.ts): the thread traces too, as the same instance. */
  tracingInstanceId?: string | undefined;
}

export interface ApplyWorkerOptions {
  config: Config;
  logger: Logger;
  reports: ApplyReports;
  tracingInstanceId?: string | undefined;
}

/** A thread that dies this soon after its start is restarted after a growing pause (a crash at start must not spin). */
const RAPID_EXIT_MS = 10_000;

export class ApplyWorker implements WebhookApplier {
  #thread: Worker | null = null;
  #exited: Promise<void> = Promise.resolve();
  #restart: NodeJS.Timeout | null = null;
  #startedAt = 0;
  #rapidExits = 0;
  #started = false;
  #stopping = false;
  #queued = 0;
  #nextId = 0;
  /** Waiting for the thread to be idle: asked again of the next thread if this one dies. */
  readonly #idle = new Map<number, () => void>();
  readonly #retries = new Map<number, (count: number) => void>();

  constructor(private readonly options: ApplyWorkerOptions) {}

  /** The thread running now (tests terminate it to stand in for a crash). */
  get thread(): Worker | null {
    return this.#thread;
  }

  get size(): number {
    return this.#queued;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#spawn();
  }

  /** Without a thread (between a death and the restart) the event waits in the inbox for the next thread's backlog pass. */
  enqueue(envelope: Envelope): void {
    // Its receipt's span context crosses to the thread as a traceparent (webhook-tracing.ts).
    this.#post({ kind: "enqueue", envelope, traceparent: traceparentOf(carriedBy(envelope)) });
  }

  retry(envelopes: readonly Envelope[]): Promise<number> {
    if (envelopes.length === 0 || !this.#thread) return Promise.resolve(0);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#retries.set(id, resolve);
      this.#post({ kind: "retry", id, envelopes });
    });
  }

  idle(): Promise<void> {
    if (!this.#started || this.#stopping) return this.#exited;
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#idle.set(id, resolve);
      this.#post({ kind: "idle", id });
    });
  }

  /** The thread finishes the batch it is applying, closes its pool and exits. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#restart) clearTimeout(this.#restart);
    const thread = this.#thread;
    if (thread) {
      thread.postMessage({ kind: "stop" } satisfies ToThread);
      const backstop = setTimeout(() => void thread.terminate(), this.options.config.shutdownTimeoutMs);
      await this.#exited;
      clearTimeout(backstop);
    }
    for (const resolve of this.#idle.values()) resolve();
    this.#idle.clear();
  }

  #spawn(): void {
    const data: ApplyThreadData = { config: this.options.config, logLevel: this.options.logger.level, tracingInstanceId: this.options.tracingInstanceId };
    const thread = new Worker(threadEntry(), { workerData: data, name: "webhook-apply" });
    thread.on("message", (message: FromThread) => this.#receive(message));
    // The class only: a message may quote the data the thread was working on.
    thread.on("error", (error) => this.options.logger.error({ errorClass: error.name }, "webhook apply thread failed"));
    this.#exited = new Promise((resolve) => thread.once("exit", (code) => resolve(this.#onExit(code))));
    this.#thread = thread;
    this.#startedAt = Date.now();
    for (const id of this.#idle.keys()) this.#post({ kind: "idle", id });
  }

  #onExit(code: number): void {
    this.#thread = null;
    this.#queued = 0;
    // What a retry handed over is in the inbox still: the next thread's backlog pass has it.
    for (const resolve of this.#retries.values()) resolve(0);
    this.#retries.clear();
    if (this.#stopping) return;
    this.#rapidExits = Date.now() - this.#startedAt < RAPID_EXIT_MS ? this.#rapidExits + 1 : 0;
    const delayMs = this.#rapidExits <= 1 ? 0 : Math.min(5000, 100 * 2 ** this.#rapidExits);
    this.options.logger.error({ exitCode: code, restartInMs: delayMs }, "webhook apply thread exited; starting another, which applies what it left");
    this.#restart = setTimeout(() => {
      this.#restart = null;
      if (!this.#stopping) this.#spawn();
    }, delayMs);
  }

  #receive(message: FromThread): void {
    switch (message.kind) {
      case "reports": {
        const { reports } = this.options;
        for (const [type, outcome] of message.outcomes) reports.outcome(type, outcome);
        for (const size of message.batches) reports.batch(size);
        for (const call of message.hmsCalls) reports.hmsCall(call);
        this.#queued = message.queued;
        return;
      }
      case "log":
        return relayLog(this.options.logger, message.line);
      case "idle":
        this.#idle.get(message.id)?.();
        this.#idle.delete(message.id);
        return;
      case "retried":
        this.#retries.get(message.id)?.(message.count);
        this.#retries.delete(message.id);
        return;
    }
  }

  #post(message: ToThread): void {
    this.#thread?.postMessage(message);
  }
}

/**
 * Under tsx (tests, `npm start`, dev) the thread needs tsx's loader registered in it (a
 * worker does not inherit the parent's); compiled, it is plain JavaScript.
 */
function threadEntry(): URL {
  const compiled = import.meta.url.endsWith(".js");
  return new URL(compiled ? "./apply-thread.js" : "./apply-thread.boot.mjs", import.meta.url);
}

/** A line the thread's logger wrote, logged again here at its level (so it goes where this process's logs go). */
function relayLog(logger: Logger, line: string): void {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, service: _service, ...fields } = record;
  const label = logger.levels.labels[Number(level)] ?? "info";
  const log = (logger as unknown as Record<string, (fields: object, msg?: string) => void>)[label];
  log?.call(logger, { ...fields, thread: "webhook-apply" }, typeof msg === "string" ? msg : undefined);
}
