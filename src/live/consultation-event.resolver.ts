/**
 * The timeline over graphql-ws: `consultationEvents` (one consultation) and
 * `myConsultationEvents` (all of the caller's: a doctor's dashboard; everything for an admin).
 * Decorators and field resolvers only: the use case (scope, visibility, replay bounds, rights
 * re-checks, audit) is ConsultationEventsService's.
 */
import { Arg, Ctx, FieldResolver, ID, Resolver, Root, Subscription, type ResolverData } from "type-graphql";
import { ConsultationEvent } from "./consultation-event.type.js";
import { Consultation, ConsultationStatus, Participant } from "../consultations/consultation.type.js";
import { participantOf, presenceAfterEvent, presenceOf } from "../consultations/participants.js";
import { requireViewer, requireVisible, type GraphQLContext } from "../graphql/context.js";
import { mapLoaded, present } from "../kit/loaded.js";
import { Prescription } from "../prescriptions/prescription.type.js";
import { NoShow, RunningLate } from "../consultations/frontdesk.type.js";
import type { PreparedEvent, StreamCaller } from "./consultation-events.service.js";
import { statusAt } from "./timeline-events.js";

type SubscribeData = ResolverData<GraphQLContext> & { args: { consultationId?: string; after?: string | null } };

@Resolver(() => ConsultationEvent)
export class ConsultationEventResolver {
  @Subscription(() => ConsultationEvent, {
    description:
      "Live timeline of one consultation. With `after`, first replays every event after that id, then goes live, with no gap and no duplicate.",
    subscribe: (data) => subscribeOne(data as unknown as SubscribeData),
  })
  consultationEvents(
    @Root() event: PreparedEvent,
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
    @Root() event: PreparedEvent,
    @Arg("after", () => ID, { nullable: true }) _after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): ConsultationEvent {
    return eventPayload(event, ctx);
  }

  // The fields below answer synchronously from the event's prepared loaders (`get`): a
  // frame to a thousand dashboards, or a replay of ten thousand, resolves without a promise
  // per field. A loader not yet holding a record still loads it.

  @FieldResolver(() => Consultation)
  consultation(@Root() event: ConsultationEvent, @Ctx() ctx: GraphQLContext): Consultation | Promise<Consultation> {
    return mapLoaded(ctx.loaders.consultation.get(event.consultationId), (c) => Consultation.from(present(c, "consultation")));
  }

  @FieldResolver(() => ConsultationStatus, { description: "The consultation's status right after this event." })
  status(@Root() event: ConsultationEvent, @Ctx() ctx: GraphQLContext): ConsultationStatus | Promise<ConsultationStatus> {
    if (!event.side) return event.loggedStatus;
    return mapLoaded(ctx.loaders.consultation.get(event.consultationId), (c) => statusAt(present(c, "consultation"), event.occurredAt) as ConsultationStatus);
  }

  @FieldResolver(() => Participant, { nullable: true, description: "Set for PARTICIPANT_JOINED, PARTICIPANT_LEFT, PARTICIPANT_OFFLINE (the side right after the event), PARTICIPANT_JOIN_FAILED (the failed attempt) and CALL_QUALITY_CHANGED (the side now, with its \`quality\`)." })
  participant(@Root() event: ConsultationEvent, @Ctx() ctx: GraphQLContext): Participant | null | Promise<Participant | null> {
    const side = event.side;
    if (!side || event.type === "EVENT_RETRACTED") return null;
    return mapLoaded(ctx.loaders.consultation.get(event.consultationId), (c) => {
      const consultation = present(c, "consultation");
      const person = side === "doctor" ? ctx.loaders.doctor.get(consultation.doctorId) : ctx.loaders.patient.get(consultation.patientId);
      // A quality report changes no presence: the side as it is now.
      const presence = event.type === "CALL_QUALITY_CHANGED" ? mapLoaded(ctx.loaders.live.get(event.consultationId), (l) => presenceOf(side, l)) : presenceAfterEvent(event);
      return mapLoaded(person, (p) => mapLoaded(presence, (now) => participantOf(side, present(p, side), now, consultation)));
    });
  }

  @FieldResolver(() => NoShow, { nullable: true, description: "Set for NO_SHOW: who never joined, and how long the other waited." })
  noShow(@Root() event: ConsultationEvent, @Ctx() ctx: GraphQLContext): NoShow | null | Promise<NoShow | null> {
    if (event.type !== "NO_SHOW") return null;
    return mapLoaded(ctx.loaders.closure.get(event.consultationId), NoShow.from);
  }

  @FieldResolver(() => RunningLate, { nullable: true, description: "Set for RUNNING_LATE: the delay announced and the new expected start." })
  runningLate(@Root() event: ConsultationEvent, @Ctx() ctx: GraphQLContext): RunningLate | null | Promise<RunningLate> {
    if (event.type !== "RUNNING_LATE" || event.delayMinutes === null) return null;
    const minutes = event.delayMinutes;
    return mapLoaded(ctx.loaders.consultation.get(event.consultationId), (c) =>
      mapLoaded(ctx.loaders.appointment.get(present(c, "consultation").appointmentId), (a) => RunningLate.of(minutes, present(a, "appointment").scheduledAt, event.occurredAt)));
  }

  @FieldResolver(() => Prescription, { nullable: true, description: "Set for PRESCRIPTION_CREATED." })
  async prescription(@Root() event: ConsultationEvent, @Ctx() ctx: GraphQLContext): Promise<Prescription | null> {
    const record = event.prescriptionId ? await ctx.loaders.prescription.load(event.prescriptionId) : null;
    return record && Prescription.from(record);
  }
}

/**
 * graphql-js keeps one context per subscription: every event brings its own, freshly loaded
 * loaders, so fields resolve from data read when the event was sent.
 */
function eventPayload(event: PreparedEvent, ctx: GraphQLContext): ConsultationEvent {
  ctx.loaders = event.loaders ?? ctx.loaders;
  return ConsultationEvent.from(event);
}

function callerOf(context: GraphQLContext): StreamCaller {
  const viewer = requireViewer(context);
  return { viewer, visible: requireVisible(context), requestId: context.requestId, clientIp: context.clientIp, expiresAt: context.auth.expiresAt };
}

function subscribeOne({ args, context }: SubscribeData) {
  return context.services.consultationEvents.subscribeOne(callerOf(context), args.consultationId ?? "", resumePoint(args, context));
}

function subscribeMine({ args, context }: SubscribeData) {
  return context.services.consultationEvents.subscribeMine(callerOf(context), resumePoint(args, context));
}

function resumePoint(args: SubscribeData["args"], context: GraphQLContext): string | null {
  return context.lastEventId || (args.after ?? null);
}
