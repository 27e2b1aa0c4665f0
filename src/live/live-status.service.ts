/**
 * Turns what 100ms reported into presence and the lifecycle, one consultation at a time:
 * under a row lock it merges new facts, derives the timeline (order-independent), moves the
 * status (PENDING -> ACTIVE when both are first together; ACTIVE -> COMPLETED once nobody
 * has been back for the grace period), saves the presence projection and appends the events
 * not yet in the log. Webhooks, the reconciler and timers all go through `update`.
 */
import { entry, SYSTEM_ACTOR, WEBHOOK_ACTOR } from "../audit/audit.model.js";
import type { ConsultationRecord, ConsultationStatus } from "../consultations/consultation.model.js";
import type { ConsultationWriteRepo } from "../consultations/consultation-write.repo.js";
import { nextLiveStep, secondsBetween, statusEvent, transition } from "../consultations/lifecycle.js";
import type { VideoRooms } from "../consultations/video-rooms.js";
import type { Logger } from "../logger.js";
import type { Repos, UnitOfWork } from "../repos.js";
import type { NewEvent } from "./event-log.repo.js";
import { deriveTimeline, type PresenceTransition, type Timeline } from "./presence.js";

const MAX_TIMER_MS = 24 * 3_600_000;

/** Records facts inside `update`'s transaction, after the consultations are locked. */
export type ApplyFacts = (repos: Repos, locked: ReadonlySet<string>) => Promise<void>;

export interface LiveStatusOptions {
  transaction: UnitOfWork;
  rooms: VideoRooms;
  logger: Logger;
  completionGraceSeconds: number;
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
   * runs once, after the consultations are locked (`locked` says which exist).
   */
  async updateMany(consultationIds: readonly string[], apply?: ApplyFacts): Promise<UpdateResult[]> {
    const ids = [...new Set(consultationIds)];
    const results = await this.options.transaction(async (repos) => {
      const writes = repos.consultationWrites;
      const lockedRows = await writes.lockByIds(ids);
      if (apply) await apply(repos, new Set(lockedRows.map((c) => c.id)));
      if (lockedRows.length === 0) return [];
      const lockedIds = lockedRows.map((c) => c.id);
      const connections = await repos.peerFacts.connectionsOfMany(lockedIds);
      const closes = await repos.peerFacts.closesOfMany(lockedIds);
      const known = await repos.eventLog.keysOfMany(lockedIds);
      const saves: Array<{ consultationId: string; timeline: Timeline }> = [];
      const audits = [];
      const fresh: NewEvent[] = [];
      const outcomes = [];
      for (const locked of lockedRows) {
        const own = connections.get(locked.id) ?? [];
        const timeline = deriveTimeline(own, closes.get(locked.id) ?? []);
        const outcome = await this.#advance(writes, locked, timeline);
        const { consultation, completedNow } = outcome;
        saves.push({ consultationId: locked.id, timeline });
        // Events come from what each connection itself reported, so the log does not depend
        // on delivery order. Leaves only implied by a session's close (the peer's own leave
        // lost) are logged when the consultation completes, after the grace period let late
        // ones in.
        const reported = completedNow ? timeline : deriveTimeline(own, []);
        // A presence change and the status change it causes: the presence change first.
        const statusEvents = statusChanges(locked, consultation);
        audits.push(...statusEvents.map((e) => e.status === "active"
            ? entry(WEBHOOK_ACTOR, "consultation.activate", consultation)
            : entry(SYSTEM_ACTOR, "consultation.complete", consultation)));
        const keys = known.get(locked.id);
        fresh.push(...[...participantEvents(consultation, reported.transitions), ...statusEvents]
          .filter((e) => !keys?.has(e.dedupeKey))
          .sort(byTimeThenPresenceFirst));
        outcomes.push(outcome);
      }
      await repos.live.saveMany(saves);
      await repos.audit.insert(audits);
      await repos.eventLog.append(fresh);
      return outcomes;
    });
    for (const { consultation, completesAt } of results) this.#schedule(consultation.id, completesAt);
    await Promise.all(results.flatMap(({ consultation, completedNow }) =>
      completedNow && consultation.roomId ? [this.#disableRoom(consultation.roomId)] : []));
    return results.map(({ consultation, completesAt }) => ({ consultation, completesAt }));
  }

  /** Stops completion timers (on shutdown). */
  stop(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Applies the lifecycle's steps for what the timeline now says (activation, completion). */
  async #advance(writes: ConsultationWriteRepo, c: ConsultationRecord, timeline: Timeline) {
    let consultation = c;
    for (;;) {
      const step = nextLiveStep(consultation, timeline, this.#now(), this.options.completionGraceSeconds);
      if (step.action === null) return { consultation, completesAt: step.completesAt, completedNow: false };
      const { to } = transition(consultation.status, step.action);
      if (step.action === "bothJoined") {
        const activated = await writes.activate(consultation.id, step.at);
        if (!activated) return { consultation, completesAt: null, completedNow: false };
        consultation = activated;
        continue;
      }
      const closed = await writes.close(consultation.id, consultation.appointmentId, {
        from: consultation.status,
        to: to as "completed",
        endedAt: step.at,
        durationSeconds: secondsBetween(consultation.startedAt ?? step.at, step.at),
        appointmentStatus: "completed",
        closedByUserId: null,
        reason: null,
      });
      return { consultation: closed ?? consultation, completesAt: null, completedNow: closed !== null };
    }
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
      this.update(consultationId).catch((error: Error) =>
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

/** PARTICIPANT_JOINED/LEFT for each transition, with the status the timeline implies then. */
export function participantEvents(c: ConsultationRecord, transitions: readonly PresenceTransition[]): NewEvent[] {
  return transitions.map((t) => ({
    consultationId: c.id,
    type: t.kind === "joined" ? "PARTICIPANT_JOINED" : "PARTICIPANT_LEFT",
    occurredAt: t.at,
    status: statusAt(c, t.at),
    side: t.side,
    peerId: t.peerId,
    joinedAt: t.joinedAt,
    dedupeKey: `${t.kind}:${t.side}:${t.at.toISOString()}`,
  }));
}

/** In time order; at the same instant, presence changes before the status change they cause. */
function byTimeThenPresenceFirst(a: NewEvent, b: NewEvent): number {
  const rank = (e: NewEvent) => (e.type === "STATUS_CHANGED" ? 1 : 0);
  return a.occurredAt.getTime() - b.occurredAt.getTime() || rank(a) - rank(b);
}

/** STATUS_CHANGED events for what `update` just did (activation, completion). */
function statusChanges(before: ConsultationRecord, after: ConsultationRecord): NewEvent[] {
  const events: NewEvent[] = [];
  if (before.status === "pending" && after.status !== "pending" && after.startedAt) {
    events.push(statusEvent(after.id, "pending", "active", after.startedAt));
  }
  if (after.status === "completed" && before.status !== "completed" && after.endedAt) {
    events.push(statusEvent(after.id, "active", "completed", after.endedAt));
  }
  return events;
}

/**
 * The status right after a presence change at `at`, from the consultation's timeline (a
 * change at the very instant of a status change comes first). Webhooks can reveal an
 * earlier start after the fact, so readers compute it from the current record too.
 */
export function statusAt(c: Pick<ConsultationRecord, "status" | "startedAt" | "endedAt">, at: Date): ConsultationStatus {
  if (c.status === "cancelled") return "cancelled";
  if (c.status === "completed" && c.endedAt && at > c.endedAt) return "completed";
  if (c.startedAt && at > c.startedAt) return "active";
  return "pending";
}
