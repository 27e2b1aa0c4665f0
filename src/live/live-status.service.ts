/**
 * Turns what 100ms reported into presence and the lifecycle, one consultation at a time:
 * under a row lock it merges new facts, derives the timeline (order-independent), moves the
 * status (PENDING -> ACTIVE when both are first together; ACTIVE -> COMPLETED once nobody
 * has been back for the grace period), saves the presence projection and appends the events
 * not yet in the log. Webhooks, the reconciler and timers all go through `update`.
 */
import { entry, SYSTEM_ACTOR, WEBHOOK_ACTOR } from "../audit/audit.model.js";
import type { ConsultationRecord } from "../consultations/consultation.model.js";
import type { ConsultationWriteRepo } from "../consultations/consultation-write.repo.js";
import { nextLiveStep, secondsBetween, transition, type CallFacts, type LiveStep } from "../consultations/lifecycle.js";
import type { VideoRooms } from "../consultations/video-rooms.js";
import type { Logger } from "../kit/logger.js";
import { inSpan } from "../kit/tracing.js";
import type { Repos, UnitOfWork } from "../app/repos.js";
import type { NewEvent } from "./event-log.repo.js";
import { deriveTimeline } from "../consultations/presence.js";
import { deriveReconnects } from "../consultations/reconnects.js";
import { callEndOf, joinFailuresOf, sideDepartures, type RoomEnd } from "../consultations/departures.js";
import type { LiveProjection } from "../consultations/presence.repo.js";
import { waitingOf } from "../consultations/waiting.js";
import { derivedEvents, reconcileLog, type ProjectedConsultation as LockedConsultation } from "./timeline-events.js";


const MAX_TIMER_MS = 24 * 3_600_000;

/**
 * Records facts inside `update`'s transaction. Called once the lock statement is sent: a
 * connection runs its statements in the order sent, so whatever `apply` sends runs with the
 * consultations locked; `locked` resolves with those that exist. It may resolve with
 * `written`, writes it has sent but not awaited: the batch's reads are sent right behind
 * them, in the same round trip, and see them.
 */
export type ApplyFacts = (repos: Repos, locked: Promise<ReadonlySet<string>>) => Promise<{ written: Promise<unknown> } | void>;

export interface LiveStatusOptions {
  transaction: UnitOfWork;
  rooms: VideoRooms;
  logger: Logger;
  completionGraceSeconds: number;
  /** How long a side whose connection dropped for a network reason stays RECONNECTING. */
  reconnectWindowSeconds: number;
  /**
   * PostgreSQL: the transaction's last writes are not awaited inside it, so COMMIT goes out
   * right behind them, in the same round trip; the event log's lock (taken by the append) is
   * then held one round trip instead of two, and lanes applying at once wait that much less
   * for each other. A write that fails aborts the transaction, PostgreSQL answers the COMMIT
   * with a rollback, and `update` throws that write's error once the transaction has returned.
   * Off on PGlite, whose transaction refuses statements once its callback has returned.
   */
  commitBehindWrites?: boolean;
  now?: () => Date;
}

export interface UpdateResult {
  consultation: ConsultationRecord;
  /** When the consultation will complete if nobody comes back. */
  completesAt: Date | null;
}

export class LiveStatus {
  readonly #now: () => Date;
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: LiveStatusOptions) {
    this.#now = options.now ?? (() => new Date());
  }

  /** Merges facts (if any) and brings the consultation's live state up to date. */
  async update(consultationId: string, apply?: ApplyFacts): Promise<UpdateResult | null> {
    const [result] = await this.updateMany([consultationId], apply);
    return result ?? null;
  }

  /**
   * `update` for many consultations in one transaction: the statements per batch are the
   * same as for one, so a burst of webhooks costs little more than a single one. `apply`
   * runs once, right behind the lock (ApplyFacts). The ids may still be on their way (a read
   * sent beside the transaction's BEGIN, so the two take one round trip, not two).
   */
  async updateMany(consultationIds: readonly string[] | Promise<readonly string[]>, apply?: ApplyFacts): Promise<UpdateResult[]> {
    const { results, final } = await this.options.transaction(async (repos) => {
      const ids = [...new Set(await consultationIds)];
      const locking = repos.consultationWrites.lockByIds(ids);
      const locked = locking.then((rows) => new Set(rows.map((c) => c.id)));
      // Awaited below or by `apply`; a failure fails the transaction, never the process.
      for (const p of [locking, locked]) p.catch(() => undefined);
      const applied = apply ? await apply(repos, locked) : undefined;
      const lockedRows = await locking;
      if (lockedRows.length === 0) {
        await applied?.written;
        return { results: [], final: undefined };
      }
      return this.#project(repos, lockedRows, applied?.written);
    });
    await final; // committed: a write that failed rolled the transaction back (commitBehindWrites)
    for (const { consultation, checkAt } of results) this.#schedule(consultation.id, checkAt);
    await Promise.all(results.flatMap(({ consultation, completedNow }) =>
      completedNow && consultation.roomId ? [this.#disableRoom(consultation.roomId)] : []));
    return results.map(({ consultation, completesAt }) => ({ consultation, completesAt }));
  }

  /**
   * For locked consultations: derives each timeline from all its facts, applies the
   * lifecycle's steps, saves the presence projection and brings the log to match the facts.
   *
   * The transaction holds its row locks (and, at the end, the event log's lock) while Node
   * waits for each answer, so statements are sent together wherever the order they are sent
   * in is all they depend on (postgres.js pipelines them on the transaction's connection,
   * which runs them in that order): the facts' writes and the reads, then every
   * consultation's steps, then the writes, each one round trip however many consultations
   * the batch touches.
   */
  async #project(repos: Repos, lockedRows: readonly LockedConsultation[], written?: Promise<unknown>) {
    const lockedIds = lockedRows.map((c) => c.id);
    const roomIds = lockedRows.flatMap((c) => (c.roomId ? [c.roomId] : []));
    const [, connections, ends, deliveries, logged] = await Promise.all([
      written,
      repos.peerFacts.connectionsOfMany(lockedIds),
      repos.peerFacts.sessionEndsOfMany(lockedIds),
      repos.peerFacts.lastDeliveriesOfMany(roomIds),
      repos.eventLog.loggedOfMany(lockedIds),
    ]);
    const derived = lockedRows.map((locked) => {
      const own = connections.get(locked.id) ?? [];
      const { closes = [], roomEnds = [] } = ends.get(locked.id) ?? {};
      const lastDeliveryAt = locked.roomId ? (deliveries.get(locked.roomId) ?? null) : null;
      return { locked, own, closes, roomEnds, lastDeliveryAt, timeline: deriveTimeline(own, closes) };
    });
    // Each consultation's steps are its own rows: all of them go in one round trip.
    const advanced = await Promise.all(derived.map((d) => this.#advance(repos.consultationWrites, d.locked, { ...d.timeline, lastDeliveryAt: d.lastDeliveryAt }, d.roomEnds)));
    const saves: LiveProjection[] = [];
    const audits = [];
    const fresh: NewEvent[] = [];
    const outcomes = [];
    const windowMs = this.options.reconnectWindowSeconds * 1000;
    for (const [i, { locked, own, closes, roomEnds, lastDeliveryAt, timeline }] of derived.entries()) {
      const outcome = advanced[i]!;
      const { consultation } = outcome;
      const reconnects = deriveReconnects(timeline.transitions, closes, windowMs, this.#now(), lastDeliveryAt);
      const failures = joinFailuresOf(own);
      saves.push({ consultationId: locked.id, timeline, reconnects, departures: sideDepartures(timeline, failures, roomEnds), waiting: waitingOf(timeline) });
      // Presence events come from what each connection itself reported, so the log does not
      // depend on delivery order. Leaves only implied by a session's close (the peer's own
      // leave lost) are logged once the consultation is over, after the grace period let
      // late ones in.
      const reported = consultation.status === "completed" ? timeline : deriveTimeline(own, []);
      audits.push(...statusAudits(locked, consultation));
      const transitions = [...reported.transitions, ...reconnects.expired];
      fresh.push(...reconcileLog(consultation, derivedEvents(consultation, transitions, { failures, roomEnds }), logged.get(locked.id) ?? []));
      outcomes.push({ ...outcome, checkAt: earliest(outcome.completesAt, reconnects.nextDeadline) });
    }
    // Three tables, one round trip; the log's append goes last, as it takes the log's lock.
    const final = Promise.all([repos.live.saveMany(saves), repos.audit.insert(audits), repos.eventLog.append(fresh)]);
    if (!this.options.commitBehindWrites) return { results: outcomes, final: await final };
    final.catch(() => undefined); // awaited by updateMany once the transaction returns
    return { results: outcomes, final };
  }

  /** Stops completion timers (on shutdown). */
  stop(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Applies the lifecycle's steps for what the facts now say (activation, new times, completion). */
  async #advance(writes: ConsultationWriteRepo, c: LockedConsultation, facts: CallFacts, roomEnds: readonly RoomEnd[]) {
    let consultation: LockedConsultation = c;
    // A call that finished by itself says why once a late room end is in (the doctor's app ended it, 100ms's maximum).
    if (c.status === "completed" && c.endedByCall && c.closureCause !== callEndOf(roomEnds)) await writes.setClosureCause(c.id, callEndOf(roomEnds));
    for (;;) {
      const step = nextLiveStep(consultation, facts, this.#now(), this.options.completionGraceSeconds);
      if (step.action === null) return { consultation, completesAt: step.completesAt, completedNow: false };
      const changed = await this.#apply(writes, consultation, step, roomEnds);
      if (!changed) return { consultation, completesAt: null, completedNow: false };
      consultation = changed;
      if (step.action === "callFinished") return { consultation, completesAt: null, completedNow: true };
    }
  }

  /** One step through the write repo; null when the status had moved on (CAS lost). */
  async #apply(writes: ConsultationWriteRepo, c: LockedConsultation, step: Exclude<LiveStep, { action: null }>, roomEnds: readonly RoomEnd[]): Promise<LockedConsultation | null> {
    if (step.action === "retime") {
      const row = await writes.retime(c.id, c.status, step.times);
      return row && { ...row, endedByCall: c.endedByCall, closureCause: c.closureCause };
    }
    const { to } = transition(c.status, step.action);
    if (step.action === "bothJoined") {
      const row = await writes.activate(c.id, step.at);
      return row && { ...row, endedByCall: false, closureCause: null };
    }
    const cause = callEndOf(roomEnds);
    const row = await writes.close(c.id, c.appointmentId, {
      from: c.status,
      to: to as "completed",
      endedAt: step.at,
      durationSeconds: secondsBetween(c.startedAt ?? step.at, step.at),
      appointmentStatus: "completed",
      closedByUserId: null,
      reason: null,
      cause,
    });
    return row && { ...row, endedByCall: true, closureCause: cause };
  }

  #schedule(consultationId: string, at: Date | null): void {
    clearTimeout(this.#timers.get(consultationId));
    this.#timers.delete(consultationId);
    if (!at) return;
    const delay = at.getTime() - this.#now().getTime();
    // Event times are 100ms's; a completion far ahead (a skewed or forged clock) is left to
    // the reconciler's periodic sweep rather than a timer (Node caps timers at ~24.8 days).
    if (delay > MAX_TIMER_MS) return;
    const timer = setTimeout(() => {
      this.#timers.delete(consultationId);
      inSpan("consultation completion check", () => this.update(consultationId), { parent: null }).catch((error: Error) =>
        this.options.logger.error({ errorClass: error.name, consultationId }, "completion check failed"),
      );
    }, Math.max(0, delay) + 50);
    timer.unref();
    this.#timers.set(consultationId, timer);
  }

  async #disableRoom(roomId: string): Promise<void> {
    // The session is over already; disabling stops a stale token from reopening the room.
    // Best effort: the reconciler repeats cleanup for completed consultations.
    await this.options.rooms.disable(roomId).catch((error: Error) =>
      this.options.logger.warn({ errorClass: error.name }, "could not disable the room of a completed consultation"),
    );
  }
}

/** When to look at a consultation again: its completion or the end of a reconnect window, whichever comes first. */
function earliest(a: Date | null, b: Date | null): Date | null {
  if (!a || !b) return a ?? b;
  return a < b ? a : b;
}

/** The audit records of what `update` just did (activation, completion). */
function statusAudits(before: ConsultationRecord, after: ConsultationRecord) {
  const audits = [];
  if (before.status === "pending" && after.status !== "pending") audits.push(entry(WEBHOOK_ACTOR, "consultation.activate", after));
  if (before.status !== "completed" && after.status === "completed") audits.push(entry(SYSTEM_ACTOR, "consultation.complete", after));
  return audits;
}
