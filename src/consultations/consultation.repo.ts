/**
 * Reads of `video_consultations`. The reads that take a viewer are scoped by the access
 * policy (a patient their own, a doctor theirs, an admin all) and are called only by
 * `VisibleConsultations`, each request's scoped view; the others (`byIds`, `rowsByIds`,
 * `byAppointmentIds`, `findRoomMembers`…) are the system's: webhooks, the reconciler, and loaders
 * reached through a parent the viewer could already see. Business rules live in the services.
 */
import { and, asc, eq, getTableColumns, gt, gte, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import type { SelectedFields } from "drizzle-orm/pg-core";
import { listScope, ownedBy } from "../access/access-policy.js";
import type { Viewer } from "../auth/viewer.js";
import { appointmentColumns, doctorColumns, doctorUsers, patientColumns, patientUsers } from "../clinic/clinic.repo.js";
import { anyOf, anyOfPlaceholder, arrayLiteral, packedRows, packedValue, packing, type Packing } from "../db/batch-sql.js";
import { builtOnce } from "../db/built-once.js";
import type { Db } from "../db/client.js";
import { exactTime } from "../db/exact-time.js";
import type { AppointmentRecord, DoctorRecord, PatientRecord } from "../clinic/clinic.model.js";
import type { LiveRow } from "./presence.repo.js";
import type { RoomMembers } from "./presence.js";
import { appointments, consultationLive, doctors, patients, videoConsultations as vc } from "../db/schema.js";
import type {
  ConsultationFound,
  ConsultationListQuery,
  ConsultationRecord,
  ConsultationListRow,
  TimelineRequest,
} from "./consultation.model.js";
import { timelineRows } from "./timeline-rows.js";
import { consultationColumns, fromListTables, LIST_ROW, listRows } from "./list-rows.js";

export { consultationColumns };

/** A room's consultation and the users behind its two sides. */
export interface ConsultationMembers extends RoomMembers {
  consultationId: string;
}

/** What makes two list queries the same statement. */
interface ListShape {
  owner: "all" | "none" | "doctor" | "patient";
  statuses: boolean;
  from: boolean;
  to: boolean;
  after: boolean;
}

export class ConsultationRepo {
  /** The list statement of each shape seen, built once. */
  readonly #lists = new Map<string, ReturnType<typeof prepareList>>();
  /** The statement reading one consultation, per scope and whether with its timeline, built once. */
  readonly #finds = new Map<string, ReturnType<typeof prepareFind>>();

  constructor(private readonly db: Db) {}

  async findVisible(viewer: Viewer, id: string): Promise<ConsultationRecord | null> {
    const [row] = await this.db
      .select(consultationColumns)
      .from(vc)
      .where(and(eq(vc.id, id), ownedBy(viewer, vc)))
      .limit(1);
    return row ?? null;
  }

  /**
   * `findVisible` with what a dashboard shows of it (appointment, people, presence) and, when
   * asked, the first page of its timeline, in one statement (built once per scope and shape).
   */
  async findRowVisible(viewer: Viewer, id: string, timeline?: TimelineRequest): Promise<ConsultationFound | null> {
    const scope = listScope(viewer);
    const key = `${scope.owner}:${timeline ? "timeline" : ""}`;
    let prepared = this.#finds.get(key);
    if (!prepared) this.#finds.set(key, (prepared = prepareFind(this.db, scope.owner, !!timeline)));
    const [row] = await prepared.execute({ id, owner: scope.id, afterId: timeline?.afterId ?? 0, limit: timeline?.limit ?? 0 });
    return row ?? null;
  }

  /**
   * A page of the viewer's consultations with their appointment, both sides' names and the
   * presence projection, in one statement (callers prime their loaders with them). The page
   * is chosen first (consultations and appointments only), then only its rows are joined.
   * Dashboards run it on every refresh: it is built once per shape (which filters are set, whose
   * rows) and then only executed with the values.
   */
  async listVisible(viewer: Viewer, query: ConsultationListQuery): Promise<ConsultationListRow[]> {
    const { statuses, from, to, after, limit } = query;
    const scope = listScope(viewer);
    const owner = scope.id;
    const shape: ListShape = {
      owner: scope.owner,
      statuses: !!statuses && statuses.length > 0,
      from: !!from,
      to: !!to,
      after: !!after,
    };
    const key = JSON.stringify(shape);
    let prepared = this.#lists.get(key);
    if (!prepared) this.#lists.set(key, (prepared = prepareList(this.db, shape)));
    // Placeholder values skip drizzle's column mapping: times go as ISO text.
    const [page] = await prepared.execute({
      owner,
      statuses: statuses ? arrayLiteral(statuses) : null,
      from: from?.toISOString() ?? null,
      to: to?.toISOString() ?? null,
      afterAt: after?.scheduledAt ?? null,
      afterId: after?.id ?? null,
      limit,
    });
    return page?.rows ?? [];
  }


  byAppointmentIds(appointmentIds: readonly string[]): Promise<ConsultationRecord[]> {
    return this.db
      .select(consultationColumns)
      .from(vc)
      .where(anyOf(vc.appointmentId, appointmentIds));
  }

  /** The consultation of a 100ms room, with the users.id of each side (to map peers to sides). */
  async findRoomMembers(roomId: string): Promise<ConsultationMembers | null> {
    return (await this.findRoomMembersMany([roomId])).get(roomId) ?? null;
  }

  /** By 100ms room id; rooms that belong to no consultation are absent. */
  async findRoomMembersMany(roomIds: readonly string[]): Promise<Map<string, ConsultationMembers>> {
    if (roomIds.length === 0) return new Map();
    const rows = await this.db
      .select({ roomId: vc.roomId, consultationId: vc.id, doctorUserId: doctors.userId, patientUserId: patients.userId })
      .from(vc)
      .innerJoin(doctors, eq(doctors.id, vc.doctorId))
      .innerJoin(patients, eq(patients.id, vc.patientId))
      .where(anyOf(vc.roomId, roomIds));
    return new Map(rows.map(({ roomId, ...members }) => [roomId!, members]));
  }

  byIds(ids: readonly string[]): Promise<ConsultationRecord[]> {
    return this.db.select(consultationColumns).from(vc).where(anyOf(vc.id, ids));
  }

  /**
   * Consultations by id as list rows (with what a dashboard shows of each), unscoped: for
   * records reached through something the caller was authorized for (live events).
   */
  async rowsByIds(ids: readonly string[]): Promise<ConsultationListRow[]> {
    return (await rowsByIdsStatement(this.db).execute({ ids: arrayLiteral(ids) })) as unknown as ConsultationListRow[];
  }
}

/** Built once (db/built-once.ts): every read of the event hub's that carries events prepares them with it. */
const rowsByIdsStatement = builtOnce("list_rows_by_ids", (db) => listRows(db).where(anyOfPlaceholder(vc.id, "ids")));

/** Whose rows a prepared statement reads: the `owner` placeholder is the doctor's or patient's id. */
function ownerCondition(owner: ListShape["owner"]): SQL | undefined {
  const p = sql.placeholder("owner");
  return { all: undefined, none: sql`false`, doctor: eq(vc.doctorId, p), patient: eq(vc.patientId, p) }[owner];
}

/** The statement reading one consultation by id as a list row, with the first page of its timeline when `timeline`. */
function prepareFind(db: Db, owner: ListShape["owner"], timeline: boolean) {
  const p = (name: string) => sql.placeholder(name);
  const extra: Record<string, SQL> = timeline ? { timeline: timelineRows(vc.id, p("afterId"), p("limit")) } : {};
  return listRows(db, extra)
    .where(and(eq(vc.id, p("id")), ownerCondition(owner)))
    .limit(1)
    .prepare("find_consultation") as unknown as { execute(values: Record<string, unknown>): Promise<ConsultationFound[]> };
}

/** The list statement for one shape, with placeholders for the values: its page as one value (`packedRows`). */
function prepareList(db: Db, shape: ListShape) {
  const p = (name: string) => sql.placeholder(name);
  const order = [asc(appointments.scheduledAt), asc(vc.id)];
  const page = db
    .select({ id: vc.id })
    .from(vc)
    .innerJoin(appointments, eq(appointments.id, vc.appointmentId))
    .where(
      and(
        ownerCondition(shape.owner),
        shape.statuses ? sql`${vc.status} = any(${p("statuses")}::text[])` : undefined,
        shape.from ? gte(appointments.scheduledAt, p("from")) : undefined,
        shape.to ? lt(appointments.scheduledAt, p("to")) : undefined,
        shape.after
          ? or(
              gt(appointments.scheduledAt, p("afterAt")),
              and(eq(appointments.scheduledAt, p("afterAt")), gt(vc.id, p("afterId"))),
            )
          : undefined,
      ),
    )
    .orderBy(...order)
    .limit(p("limit"));
  return fromListTables(db, { rows: packedRows<ConsultationListRow>(LIST_ROW, order) })
    .where(inArray(vc.id, page))
    .prepare("list_consultations") as unknown as { execute(values: Record<string, unknown>): Promise<Array<{ rows: ConsultationListRow[] | null }>> };
}
