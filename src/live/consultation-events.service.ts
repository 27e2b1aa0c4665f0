/**
 * The subscription use case behind `consultationEvents` and `myConsultationEvents`: which
 * events a caller's stream carries (scope), whether each may be delivered (visibility, the
 * token's expiry, the user's current rights), how far back a resume may replay (horizon and
 * admission), the audit of its start and end, and the loading of what its fields need.
 */
import type { VisibleConsultations } from "../consultations/visible-consultations.js";
import { eventScope, maySee, sameRights } from "../access/access-policy.js";
import type { FindViewers } from "../auth/authenticate.js";
import type { Viewer } from "../auth/viewer.js";
import type { AuditWriter } from "../audit/audit-writer.js";
import { actorOf, entry } from "../audit/audit.model.js";
import type { Denials } from "../audit/denials.js";
import type { StreamLimits } from "../config/config.js";
import type { ConsultationService } from "../consultations/consultation.service.js";
import { AppError, notFound } from "../kit/errors.js";
import { createLoaders } from "./loaders.js";
import type { Metrics } from "../kit/metrics.js";
import type { Repos } from "../app/repos.js";
import { decodeEventId } from "../consultations/event-cursor.js";
import type { EventHub } from "./event-hub.js";
import type { EventLogRepo, EventScope, RoutedEvent } from "./event-log.repo.js";
import { eventStream, type StreamOptions } from "./event-stream.js";
import { preparedEvents, type Prepared } from "./prepared-events.js";
import { ReplayGate, type ReplayTurns } from "./replay-gate.js";
import { UserRights } from "./user-rights.js";

/** Who opens a stream: the signed-in viewer, the request's ids (audit) and the token's expiry. */
export interface StreamCaller {
  viewer: Viewer;
  /** The consultations this caller may see (the request's scoped view). */
  visible: VisibleConsultations;
  requestId: string;
  clientIp: string | null;
  expiresAt: Date | null;
}

/** An event with loaders already holding what its fields need. */
export type PreparedEvent = Prepared;

/** Refusal of a resume point past the horizon: the client refetches and subscribes from now. */
export const replayHorizonError = () =>
  new AppError("BAD_USER_INPUT", "Resume point too old: refetch the state and subscribe without `after`", {
    field: "after",
    reason: "REPLAY_HORIZON",
  });

export class ConsultationEventsService {
  readonly #gate: ReplayGate;
  /** Each user's current rights as last read, trusted for `recheckMs`. */
  readonly #rights: UserRights;
  readonly #prepare: StreamOptions<PreparedEvent>["prepare"];
  readonly #shared: StreamShared;

  constructor(
    private readonly deps: {
      repos: Repos;
      consultations: ConsultationService;
      audit: AuditWriter;
      denials: Denials;
      metrics: Metrics;
      hub: () => EventHub;
      findViewers: FindViewers;
      limits: StreamLimits;
    },
  ) {
    this.#gate = new ReplayGate(deps.limits.replayMaxConcurrent, deps.limits.replayMaxConcurrentPerUser);
    this.#rights = new UserRights(deps.findViewers, deps.limits.recheckMs);
    this.#prepare = preparedEvents({ loaders: () => createLoaders(deps.repos), rows: (ids) => deps.repos.consultations.rowsByIds(ids) });
    this.#shared = { audit: deps.audit, metrics: deps.metrics, gate: this.#gate, recheck: (viewer) => this.#recheck(viewer) };
  }

  /**
   * The last event id this process's hub dispatched (0 without a hub): behind the log's head
   * by at most a wake-up, never ahead of what a read started now can see.
   */
  logPosition(): number {
    try {
      return this.deps.hub().lastId;
    } catch {
      return 0;
    }
  }

  /** One consultation's events; NOT_FOUND (audited as denied) when the caller may not see it. */
  async subscribeOne(caller: StreamCaller, consultationId: string, after: string | null): Promise<AsyncIterableIterator<PreparedEvent>> {
    const consultation = await caller.visible.find(consultationId);
    if (!consultation) {
      this.deps.denials.record(actorOf(caller.viewer, caller), "subscription.start", consultationId);
      throw notFound("Consultation");
    }
    const subject = { consultationId: consultation.id, patientId: consultation.patientId };
    return this.#stream(caller, { consultationId: consultation.id }, subject, after);
  }

  /** All the caller's consultations' events: a doctor's or a patient's own; every one for an admin. */
  subscribeMine(caller: StreamCaller, after: string | null): Promise<AsyncIterableIterator<PreparedEvent>> {
    const { viewer } = caller;
    return this.#stream(caller, eventScope(viewer), {}, after);
  }

  /** Starts the stream once its resume point is within the horizon; start and end are audited. */
  async #stream(
    caller: StreamCaller,
    scope: EventScope,
    subject: { consultationId?: string; patientId?: string },
    after: string | null,
  ): Promise<AsyncIterableIterator<PreparedEvent>> {
    const afterId = after != null ? decodeEventId(after) : null;
    if (afterId !== null) await this.#checkHorizon(scope, afterId);
    const { viewer, expiresAt } = caller;
    const { audit, metrics } = this.deps;
    const actor = actorOf(viewer, caller);
    this.#rights.remember(viewer);
    audit.enqueue(entry(actor, "subscription.start", subject));
    metrics.subscriptions.inc();
    return eventStream(
      new SubscriptionStream(this.#shared, { hub: this.deps.hub(), log: this.deps.repos.eventLog, prepare: this.#prepare }, { scope, afterId, viewer, expiresAt, actor, subject }),
    );
  }

  /** Refuses a replay of more than `replayMaxEvents` events or of events older than `replayMaxAgeHours`. */
  async #checkHorizon(scope: EventScope, afterId: number): Promise<void> {
    const { replayMaxEvents, replayMaxAgeHours } = this.deps.limits;
    const loggedBefore = new Date(Date.now() - replayMaxAgeHours * 3_600_000);
    const backlog = await this.deps.repos.eventLog.backlog(scope, afterId, replayMaxEvents, loggedBefore);
    if (backlog.events > replayMaxEvents || backlog.older > 0) throw replayHorizonError();
  }

  /**
   * Ends the stream when the user's row no longer grants what it did at the start: deleted
   * (UNAUTHENTICATED) or another role or doctor/patient link (FORBIDDEN). Read at most once
   * per `recheckMs` per user, however many streams the user has open (users whose rights go
   * stale together are re-read together: user-rights.ts).
   */
  async #recheck(started: Viewer): Promise<void> {
    const current = await this.#rights.current(started.userId);
    if (current === null) throw new AppError("UNAUTHENTICATED", "Unknown user");
    if (!sameRights(started, current)) throw new AppError("FORBIDDEN", "Your access changed: subscribe again");
  }
}

/** What every stream of one service shares. */
interface StreamShared {
  audit: AuditWriter;
  metrics: Metrics;
  gate: ReplayGate;
  recheck: (viewer: Viewer) => Promise<void>;
}

/** One subscription's own facts: what it streams, for whom, and how it is audited. */
interface StreamFacts {
  scope: EventScope;
  afterId: number | null;
  viewer: Viewer;
  expiresAt: Date | null;
  actor: ReturnType<typeof actorOf>;
  subject: { consultationId?: string; patientId?: string };
}

/**
 * One subscription's stream options, as a class rather than an object of arrow functions: the
 * methods live once on the prototype, where each of thousands of idle subscriptions would
 * otherwise hold five closures of its own (and, compiled with names kept, a property table each).
 */
class SubscriptionStream implements StreamOptions<PreparedEvent> {
  readonly hub: EventHub;
  readonly log: EventLogRepo;
  readonly prepare: StreamOptions<PreparedEvent>["prepare"];
  readonly scope: EventScope;
  readonly afterId: number | null;

  constructor(
    private readonly shared: StreamShared,
    sources: Pick<StreamOptions<PreparedEvent>, "hub" | "log" | "prepare">,
    private readonly facts: StreamFacts,
  ) {
    ({ hub: this.hub, log: this.log, prepare: this.prepare } = sources);
    this.scope = facts.scope;
    this.afterId = facts.afterId;
  }

  authorize(event: RoutedEvent): boolean {
    const { expiresAt, viewer } = this.facts;
    return (expiresAt === null || expiresAt > new Date()) && maySee(viewer, event);
  }

  recheck(): Promise<void> {
    return this.shared.recheck(this.facts.viewer);
  }

  replays(): ReplayTurns {
    return this.shared.gate.open(this.facts.viewer.userId);
  }

  onDeliver(event: RoutedEvent): void {
    this.shared.metrics.deliveryLag.observe(Math.max(0, Date.now() - event.createdAt.getTime()) / 1000);
  }

  onEnd(): void {
    this.shared.metrics.subscriptions.dec();
    this.shared.audit.enqueue(entry(this.facts.actor, "subscription.end", this.facts.subject));
  }
}
