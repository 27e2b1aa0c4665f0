/**
 * The timeline over graphql-ws: `consultationEvents` (one consultation) and
 * `myConsultationEvents` (all of the caller's: a doctor's dashboard; everything for an admin).
 * With `after`, every later event is replayed from the log first, then the stream goes live.
 * Each event is re-authorized before delivery, and a stream ends when the token expires.
 */
import { Arg, Ctx, FieldResolver, ID, Resolver, Root, Subscription, type ResolverData } from "type-graphql";
import type { Viewer } from "../auth/viewer.js";
import { ConsultationEvent } from "../consultations/consultation-event.type.js";
import { Consultation, ConsultationStatus, Participant } from "../consultations/consultation.type.js";
import { participantOf } from "../consultations/participants.js";
import { actorOf, entry } from "../audit/audit.model.js";
import { notFound } from "../errors.js";
import { isUuid } from "../ids.js";
import { requireViewer, type GraphQLContext } from "../graphql/context.js";
import { createLoaders, present, type Loaders } from "../graphql/loaders.js";
import { Prescription } from "../prescriptions/prescription.type.js";
import { decodeEventId } from "./event-cursor.js";
import type { EventScope, RoutedEvent } from "./event-log.repo.js";
import { eventStream } from "./event-stream.js";
import { statusAt } from "./live-status.service.js";

type SubscribeData = ResolverData<GraphQLContext> & { args: { consultationId?: string; after?: string | null } };

@Resolver(() => ConsultationEvent)
export class ConsultationEventResolver {
  @Subscription(() => ConsultationEvent, {
    description:
      "Live timeline of one consultation. With `after`, first replays every event after that id, then goes live, with no gap and no duplicate.",
    subscribe: (data) => subscribeOne(data as unknown as SubscribeData),
  })
  consultationEvents(
    @Root() event: RoutedEvent,
    @Arg("consultationId", () => ID) _consultationId: string,
    @Arg("after", () => ID, { nullable: true }) _after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): ConsultationEvent {
    return eventPayload(event, ctx);
  }

  @Subscription(() => ConsultationEvent, {
    description:
      "Live timeline of all the caller's consultations: a doctor's dashboard (an admin's sees all). Same resume rule.",
    subscribe: (data) => subscribeMine(data as unknown as SubscribeData),
  })
  myConsultationEvents(
    @Root() event: RoutedEvent,
    @Arg("after", () => ID, { nullable: true }) _after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): ConsultationEvent {
    return eventPayload(event, ctx);
  }

  @FieldResolver(() => Consultation)
  async consultation(@Root() event: ConsultationEvent, @Ctx() ctx: GraphQLContext): Promise<Consultation> {
    return Consultation.from(present(await ctx.loaders.consultation.load(event.consultationId), "consultation"));
  }

  @FieldResolver(() => ConsultationStatus, { description: "The consultation's status right after this event." })
  async status(@Root() event: ConsultationEvent, @Ctx() ctx: GraphQLContext): Promise<ConsultationStatus> {
    if (!event.side) return event.loggedStatus;
    const consultation = present(await ctx.loaders.consultation.load(event.consultationId), "consultation");
    return statusAt(consultation, event.occurredAt) as ConsultationStatus;
  }

  @FieldResolver(() => Participant, { nullable: true, description: "Set for PARTICIPANT_JOINED and PARTICIPANT_LEFT." })
  async participant(@Root() event: ConsultationEvent, @Ctx() ctx: GraphQLContext): Promise<Participant | null> {
    if (!event.side) return null;
    const consultation = present(await ctx.loaders.consultation.load(event.consultationId), "consultation");
    const person =
      event.side === "doctor"
        ? present(await ctx.loaders.doctor.load(consultation.doctorId), "doctor")
        : present(await ctx.loaders.patient.load(consultation.patientId), "patient");
    const joined = event.type === "PARTICIPANT_JOINED";
    return participantOf(event.side, person, {
      online: joined,
      peerId: event.peerId,
      joinedAt: joined ? event.occurredAt : event.joinedAt,
      leftAt: joined ? null : event.occurredAt,
    });
  }

  @FieldResolver(() => Prescription, { nullable: true, description: "Set for PRESCRIPTION_CREATED." })
  async prescription(@Root() event: ConsultationEvent, @Ctx() ctx: GraphQLContext): Promise<Prescription | null> {
    const record = event.prescriptionId ? await ctx.loaders.prescription.load(event.prescriptionId) : null;
    return record && Prescription.from(record);
  }
}

/** An event with loaders already holding what its fields need (loaded by the stream). */
type PreparedEvent = RoutedEvent & { loaders: Loaders };

/**
 * graphql-js keeps one context per subscription: every event brings its own, freshly loaded
 * loaders, so fields resolve from data read when the event was sent.
 */
function eventPayload(event: RoutedEvent, ctx: GraphQLContext): ConsultationEvent {
  ctx.loaders = (event as PreparedEvent).loaders ?? createLoaders(ctx.services.repos);
  return ConsultationEvent.from(event);
}

/**
 * Loads, in one batch, what a list of events' fields need. Live events are the same objects
 * for every subscriber in this process (the hub hands each batch to all of them), so a batch
 * is prepared once and shared: one set of queries per event, not one per subscriber. Every
 * subscriber was authorized for the event before it gets here, and the loaders only hold the
 * event's own consultation, its people and its prescription.
 */
const preparedBatches = new WeakMap<readonly RoutedEvent[], Promise<PreparedEvent[]>>();
const preparedEvents = new WeakMap<RoutedEvent, Promise<PreparedEvent>>();

function prepare(context: GraphQLContext, events: readonly RoutedEvent[]): Promise<PreparedEvent[]> {
  const cached = events.map((e) => preparedEvents.get(e));
  if (cached.every((p) => p !== undefined)) return Promise.all(cached as Array<Promise<PreparedEvent>>);
  let batch = preparedBatches.get(events);
  if (!batch) {
    const loading = load(context, events);
    batch = loading;
    preparedBatches.set(events, loading);
    for (const [i, e] of events.entries()) {
      const one = loading.then((all) => all[i]!);
      one.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
      preparedEvents.set(e, one);
    }
    // A failed load (the database away) is forgotten, so the stream's retry loads afresh.
    loading.catch(() => {
      preparedBatches.delete(events);
      for (const e of events) preparedEvents.delete(e);
    });
  }
  return batch;
}

async function load(context: GraphQLContext, events: readonly RoutedEvent[]): Promise<PreparedEvent[]> {
  const loaders = createLoaders(context.services.repos);
  const consultations = await Promise.all(events.map((e) => loaders.consultation.load(e.consultationId)));
  await Promise.all(
    consultations.flatMap((c, i) =>
      c
        ? [
            loaders.doctor.load(c.doctorId),
            loaders.patient.load(c.patientId),
            loaders.appointment.load(c.appointmentId),
            loaders.live.load(c.id),
            events[i]!.prescriptionId ? loaders.prescription.load(events[i]!.prescriptionId!) : null,
          ]
        : [],
    ),
  );
  return events.map((event) => ({ ...event, loaders }));
}

async function subscribeOne({ args, context }: SubscribeData) {
  const viewer = requireViewer(context);
  const consultation = await context.services.consultations.findForViewer(viewer, args.consultationId ?? "");
  if (!consultation) {
    const id = args.consultationId ?? "";
    context.services.audit.enqueue(
      entry(actorOf(viewer, context), "subscription.start", { consultationId: isUuid(id) ? id.toLowerCase() : null }, "denied"),
    );
    throw notFound("Consultation");
  }
  return stream(context, viewer, { consultationId: consultation.id, patientId: consultation.patientId }, args.after);
}

async function subscribeMine({ args, context }: SubscribeData) {
  const viewer = requireViewer(context);
  const scope: EventScope =
    viewer.role === "admin"
      ? { all: true }
      : viewer.role === "doctor"
        ? { doctorId: viewer.doctorId ?? "" }
        : { patientId: viewer.patientId ?? "" };
  return stream(context, viewer, scope, args.after);
}

/** Starts the stream; its start and end are audited (with the consultation, for one). */
function stream(
  context: GraphQLContext,
  viewer: Viewer,
  scope: EventScope & { patientId?: string },
  after: string | null | undefined,
) {
  const afterId = after != null ? decodeEventId(after) : null;
  const expiresAt = context.auth.expiresAt;
  const subject = "consultationId" in scope ? { consultationId: scope.consultationId, patientId: scope.patientId ?? null } : {};
  const actor = actorOf(viewer, context);
  const { metrics } = context.services;
  context.services.audit.enqueue(entry(actor, "subscription.start", subject));
  metrics.subscriptions.inc();
  return eventStream({
    onEnd: () => {
      metrics.subscriptions.dec();
      context.services.audit.enqueue(entry(actor, "subscription.end", subject));
    },
    prepare: (events) => prepare(context, events),
    onDeliver: (event) => metrics.deliveryLag.observe(Math.max(0, Date.now() - event.createdAt.getTime()) / 1000),
    hub: context.services.hub(),
    log: context.services.repos.eventLog,
    scope,
    afterId,
    authorize: (event) => (expiresAt === null || expiresAt > new Date()) && canSee(viewer, event),
  });
}

function canSee(viewer: Viewer, event: RoutedEvent): boolean {
  if (viewer.role === "admin") return true;
  return viewer.role === "doctor" ? event.doctorId === viewer.doctorId : event.patientId === viewer.patientId;
}
