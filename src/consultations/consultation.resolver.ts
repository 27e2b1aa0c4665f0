import type { GraphQLResolveInfo } from "graphql";
import { Arg, Ctx, FieldResolver, ID, Info, Int, Query, Resolver, Root } from "type-graphql";
import { Appointment } from "../clinic/appointment.type.js";
import { Doctor, Patient } from "../clinic/clinic.types.js";
import { actorOf } from "../audit/audit.model.js";
import { recordRead, requireViewer, requireVisible, type GraphQLContext } from "../graphql/context.js";
import { mapLoaded, present } from "../kit/loaded.js";
import { PageInfo } from "../graphql/relay.types.js";
import { selectedFieldArgs } from "../graphql/lookahead.js";
import type { TimelineArgs } from "./consultation.service.js";
import { encodeEventId } from "./event-cursor.js";
import { connectedSecondsAt } from "./presence.js";
import { participantsOf } from "./participants.js";
import type { ConsultationStatus as DomainStatus } from "./consultation.model.js";
import {
  Consultation,
  ConsultationConnection,
  ConsultationEdge,
  ConsultationFilter,
  Participant,
} from "./consultation.type.js";

@Resolver(() => Consultation)
export class ConsultationResolver {
  @Query(() => Consultation, {
    nullable: true,
    description: "Null when it does not exist or the caller may not see it.",
  })
  async consultation(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext, @Info() info: GraphQLResolveInfo): Promise<Consultation | null> {
    const viewer = requireViewer(ctx);
    const events = timelineArgs(info);
    const row = await ctx.services.consultations.find(requireVisible(ctx), id, events);
    // Read with its fields' records (and the page of its timeline the query asks for): the
    // node, its events and their `consultation` resolve without further statements.
    if (row) ctx.loaders.primeRow(row);
    if (row?.timeline && events) ctx.loaders.primeTimeline(row.consultation.id, events, row.timeline);
    const record = row?.consultation ?? null;
    if (record) recordRead(ctx, record);
    else if (await ctx.services.consultations.exists(id)) {
      // Someone else's consultation: the caller sees null, the trail sees the attempt.
      ctx.services.denials.record(actorOf(viewer, ctx), "consultation.read", id);
    }
    return record && Consultation.from(record);
  }

  @Query(() => ConsultationConnection, {
    description: "The caller's consultations (all of them for an admin), soonest appointment first.",
  })
  async consultations(
    @Arg("filter", () => ConsultationFilter, { nullable: true }) filter: ConsultationFilter | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ConsultationConnection> {
    const page = await ctx.services.consultations.list(requireVisible(ctx), {
      statuses: filter?.status as DomainStatus[] | undefined,
      from: filter?.from,
      to: filter?.to,
      first: first ?? 20,
      after,
    });
    const edges = page.items.map((row) => {
      const { consultation } = row;
      // Read with the page: the node's fields resolve without further statements.
      ctx.loaders.primeRow(row);
      recordRead(ctx, consultation);
      return ConsultationEdge.of(Consultation.from(consultation), { scheduledAt: row.scheduledAtExact, id: consultation.id });
    });
    // Only the last cursor is encoded here (`endCursor`); the others when a query selects them.
    const pageInfo = PageInfo.of(
      edges.slice(-1).map((e) => e.cursor),
      page.hasNextPage,
    );
    return Object.assign(new ConsultationConnection(), { edges, pageInfo, liveCursor: encodeEventId(ctx.logPosition) });
  }

  @FieldResolver(() => ID, {
    description:
      "Where the event log stood when this request began: subscribe with `after: liveCursor` to get every change after what this response shows, on any instance, with no gap (an event this response already reflects may come once more).",
  })
  liveCursor(@Ctx() ctx: GraphQLContext): string {
    return encodeEventId(ctx.logPosition);
  }

  @FieldResolver(() => Appointment)
  appointment(@Root() consultation: Consultation, @Ctx() ctx: GraphQLContext): Appointment | Promise<Appointment> {
    return mapLoaded(ctx.loaders.appointment.get(consultation.appointmentId), (a) => Appointment.from(present(a, "appointment")));
  }

  @FieldResolver(() => Doctor)
  doctor(@Root() consultation: Consultation, @Ctx() ctx: GraphQLContext): Doctor | Promise<Doctor> {
    return mapLoaded(ctx.loaders.doctor.get(consultation.doctorId), (d) => Doctor.from(present(d, "doctor")));
  }

  @FieldResolver(() => Patient)
  patient(@Root() consultation: Consultation, @Ctx() ctx: GraphQLContext): Patient | Promise<Patient> {
    return mapLoaded(ctx.loaders.patient.get(consultation.patientId), (p) => Patient.from(present(p, "patient")));
  }

  @FieldResolver(() => [Participant], {
    description: "Always two entries, the doctor's and the patient's, with live presence.",
  })
  participants(@Root() consultation: Consultation, @Ctx() ctx: GraphQLContext): Participant[] | Promise<Participant[]> {
    const doctor = ctx.loaders.doctor.get(consultation.doctorId);
    const patient = ctx.loaders.patient.get(consultation.patientId);
    const live = ctx.loaders.live.get(consultation.id);
    if (doctor instanceof Promise || patient instanceof Promise || live instanceof Promise) {
      return Promise.all([doctor, patient, live]).then(([d, p, l]) => participantsOf(d, p, l, consultation));
    }
    return participantsOf(doctor, patient, live, consultation);
  }

  @FieldResolver(() => Int, {
    nullable: true,
    description: "Seconds during which doctor and patient were both in the room; null before anyone joined.",
  })
  connectedSeconds(@Root() consultation: Consultation, @Ctx() ctx: GraphQLContext): number | null | Promise<number | null> {
    return mapLoaded(ctx.loaders.live.get(consultation.id), (live) => live && connectedSecondsAt(live.connectedMs, live.bothSince, new Date()));
  }
}

/** The arguments of `events` when the query selects it under the consultation (`ConsultationTimelineResolver`'s defaults). */
function timelineArgs(info: GraphQLResolveInfo): TimelineArgs | null {
  const args = selectedFieldArgs(info, "events");
  if (!args) return null;
  return { first: (args.first as number | null) ?? 50, after: (args.after as string | null) ?? null };
}

/** `Appointment.consultation`: an appointment's video consultation, read (and audited) like any other. */
@Resolver(() => Appointment)
export class AppointmentConsultationResolver {
  @FieldResolver(() => Consultation, { nullable: true, description: "The video consultation, once created." })
  async consultation(@Root() appointment: Appointment, @Ctx() ctx: GraphQLContext): Promise<Consultation | null> {
    const record = await ctx.loaders.consultationByAppointment.load(appointment.id);
    if (record) recordRead(ctx, record);
    return record && Consultation.from(record);
  }
}
