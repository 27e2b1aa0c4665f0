/**
 * Starting, joining, ending and cancelling a consultation. Each use case begins with its
 * authorization check; a consultation the viewer may not see is NOT_FOUND, exactly as one
 * that does not exist. 100ms is called before the database changes, so a 100ms failure
 * leaves the database as it was and the same call succeeds once 100ms is back.
 */
import type { VisibleConsultations } from "./visible-consultations.js";
import { mayEndCall, mayJoin } from "../access/access-policy.js";
import { entry, SYSTEM_ACTOR, type Actor } from "../audit/audit.model.js";
import type { AuditRepo } from "../audit/audit.repo.js";
import type { AppointmentRecord } from "../clinic/clinic.model.js";
import type { ClinicRepo } from "../clinic/clinic.repo.js";
import type { VideoPolicy } from "../config/config.js";
import { AppError, badInput, notFound } from "../kit/errors.js";
import { textProblem } from "../kit/text.js";
import type { ConsultationRecord } from "./consultation.model.js";
import type { ConsultationRepo } from "./consultation.repo.js";
import type { ConsultationWriteRepo, LegacyTokens } from "./consultation-write.repo.js";
import { assertCanJoin, joinTokenExpiry, joinWindow } from "./join-window.js";
import type { UnitOfWork } from "../app/repos.js";
import { isClosed, secondsBetween, statusEvent, transition, type LifecycleAction } from "./lifecycle.js";
import { appointmentStatusOf, expiryRoomReason, noShowEvent, noShowOf, noShowReason, type NoShow } from "./no-shows.js";
import type { PeerFactsRepo } from "./presence.repo.js";
import type { FrontDeskRepo } from "./frontdesk.repo.js";
import type { Side, VideoRooms } from "./video-rooms.js";

export interface JoinTokenResult {
  token: string;
  roomId: string;
  side: Side;
  userId: string;
  expiresAt: Date;
}

export interface ConsultationCommandDeps {
  reads: ConsultationRepo;
  writes: ConsultationWriteRepo;
  transaction: UnitOfWork;
  clinic: ClinicRepo;
  rooms: VideoRooms;
  policy: VideoPolicy;
  /** Audit records outside a transaction (join tokens). */
  audit: AuditRepo;
  /** What 100ms reported, for who never came at expiry. */
  facts: PeerFactsRepo;
  /** The delay a doctor announced, which moves the join window. */
  frontDesk: FrontDeskRepo;
  now?: () => Date;
}

const MAX_REASON_LENGTH = 500;

export class ConsultationCommands {
  readonly #now: () => Date;

  constructor(private readonly deps: ConsultationCommandDeps) {
    this.#now = deps.now ?? (() => new Date());
  }

  /** Creates the consultation of a video appointment and provisions its room. Idempotent. */
  async start(visible: VisibleConsultations, actor: Actor, appointmentId: string): Promise<ConsultationRecord> {
    const appointment = await visible.findAppointment(appointmentId);
    if (!appointment) throw notFound("Appointment");
    if (appointment.type !== "video") throw badInput("Only video appointments have a consultation", "appointmentId");
    if (appointment.status === "cancelled" || appointment.status === "no_show") {
      throw new AppError("INVALID_STATE", `The appointment is ${appointment.status}`);
    }
    return this.#provision(appointment, { create: true, actor });
  }

  /** A fresh 100ms token for the caller's own side, within the join window. */
  async join(visible: VisibleConsultations, actor: Actor, consultationId: string): Promise<JoinTokenResult> {
    const viewer = visible.viewer;
    let consultation = await visible.get(consultationId);
    const side = mayJoin(viewer, consultation);
    if (!side) throw new AppError("FORBIDDEN", "Only the consultation's doctor or patient can join it");
    const window = await this.#windowOf(consultation);
    assertCanJoin(consultation.status, window, this.#now());
    if (!consultation.roomId) consultation = await this.#provision(await this.#appointmentOf(consultation), { create: false, actor });
    assertCanJoin(consultation.status, window, this.#now());
    const roomId = consultation.roomId!;
    await this.deps.rooms.removeStaleConnections(roomId, viewer.userId);
    const expiresAt = joinTokenExpiry(consultation.status, window, this.#now());
    const minted = await this.deps.rooms.mintJoinToken({ roomId, userId: viewer.userId, side, expiresAt });
    // Recorded before the token is handed out: no token without its audit record.
    await this.deps.audit.insert([entry(actor, "consultation.join", consultation)]);
    return { token: minted.token, roomId, side, userId: viewer.userId, expiresAt: minted.expiresAt };
  }

  /** The doctor ends the call for both sides: room ended and locked, COMPLETED. Idempotent. */
  async end(visible: VisibleConsultations, actor: Actor, consultationId: string): Promise<ConsultationRecord> {
    const consultation = await visible.get(consultationId);
    if (!mayEndCall(visible.viewer, consultation)) {
      throw new AppError("FORBIDDEN", "Only the consultation's doctor can end it");
    }
    return this.#close(consultation, "endByDoctor", actor, null);
  }

  /** Doctor, patient or admin cancels a consultation that has not become ACTIVE. */
  async cancel(visible: VisibleConsultations, actor: Actor, consultationId: string, reason: string | null | undefined): Promise<ConsultationRecord> {
    const trimmed = reason?.trim() || null;
    const problem = trimmed ? textProblem(trimmed) : null;
    if (problem) throw badInput(`reason ${problem}`, "reason");
    if (trimmed && trimmed.length > MAX_REASON_LENGTH) {
      throw badInput(`reason must be at most ${MAX_REASON_LENGTH} characters`, "reason");
    }
    const consultation = await visible.get(consultationId);
    return this.#close(consultation, "cancel", actor, trimmed);
  }

  /**
   * The API itself closes a PENDING consultation whose join window closed: CANCELLED, with
   * which side never came and how long the other waited (no-shows.ts); the appointment a
   * no-show only when the patient never came; the room ended for a side still waiting in it
   * and locked; the tokens cleared. Facts are read before the transaction (embedded PGlite).
   */
  async expire(consultation: ConsultationRecord): Promise<ConsultationRecord> {
    const [connections, ends] = await Promise.all([this.deps.facts.connectionsOfMany([consultation.id]), this.deps.facts.sessionEndsOfMany([consultation.id])]);
    const { closesAt } = await this.#windowOf(consultation);
    const noShow = noShowOf(connections.get(consultation.id) ?? [], ends.get(consultation.id)?.closes ?? [], closesAt);
    return this.#close(consultation, "expire", SYSTEM_ACTOR, noShowReason(noShow), noShow);
  }

  /** The join window, moved by any delay the doctor announced. */
  async #windowOf(consultation: ConsultationRecord) {
    const [appointment, delay] = await Promise.all([this.#appointmentOf(consultation), this.deps.frontDesk.delayOf(consultation.id)]);
    return joinWindow({ ...appointment, delayMinutes: delay?.minutes }, this.deps.policy);
  }

  async #appointmentOf(consultation: ConsultationRecord): Promise<AppointmentRecord> {
    const [appointment] = await this.deps.clinic.appointmentsByIds([consultation.appointmentId]);
    if (!appointment) throw new Error("consultation without its appointment");
    return appointment;
  }

  /**
   * Gives the appointment's consultation a room, once. The row is locked while 100ms is
   * asked, so concurrent callers wait and then find the room: one row, one room. If 100ms
   * fails, the transaction rolls back: no row is left half-provisioned (a row the clinic's
   * system created earlier stays as it was).
   */
  async #provision(appointment: AppointmentRecord, options: { create: boolean; actor: Actor }): Promise<ConsultationRecord> {
    // Read before the transaction: on embedded PGlite (one connection) a query on the outer
    // handle during a transaction waits for that transaction forever.
    const sides = await this.#sideUserIds(appointment);
    return this.deps.transaction(async ({ consultationWrites: tx, frontDesk, audit }) => {
      if (options.create) await tx.insertIfAbsent(appointment);
      const consultation = await tx.lockByAppointmentId(appointment.id);
      if (!consultation) throw notFound("Consultation");
      // A room set by the old client-side flow is kept; a closed consultation gets none.
      if (consultation.roomId || isClosed(consultation.status)) return consultation;
      const room = await this.deps.rooms.createRoom(consultation.id, appointment.durationMinutes);
      // Read under the row lock: a delay announced meanwhile waited for it, or is seen here.
      const delay = await frontDesk.delayOf(consultation.id);
      const tokens = await this.#legacyTokens(consultation, { ...appointment, delayMinutes: delay?.minutes }, room.id, sides);
      await audit.insert([entry(options.actor, "consultation.start", consultation)]);
      return (await tx.setRoom(consultation.id, room.id, tokens)) ?? consultation;
    });
  }

  async #sideUserIds(appointment: AppointmentRecord): Promise<Record<Side, string>> {
    const [[doctor], [patient]] = await Promise.all([
      this.deps.clinic.doctorsByIds([appointment.doctorId]),
      this.deps.clinic.patientsByIds([appointment.patientId]),
    ]);
    if (!doctor || !patient) throw new Error("appointment without its doctor or patient");
    return { doctor: doctor.userId, patient: patient.userId };
  }

  /**
   * For a consultation whose doctor announces a delay: mints the table's join tokens again, for
   * the room the caller finds under its row lock, living until the window moved by `minutes`.
   * Null when the table holds no tokens (the setting off). The appointment and the sides are
   * read now, before the caller's transaction (embedded PGlite: one connection); the minting
   * reads nothing.
   */
  async legacyTokenMinter(consultation: ConsultationRecord): Promise<((roomId: string, minutes: number) => Promise<LegacyTokens | null>) | null> {
    if (!this.deps.policy.legacyTokenColumns) return null;
    const appointment = await this.#appointmentOf(consultation);
    const sides = await this.#sideUserIds(appointment);
    return (roomId, minutes) => this.#legacyTokens(consultation, { ...appointment, delayMinutes: minutes }, roomId, sides);
  }

  /** Older app versions read join tokens from the table: same window-bounded expiry (moved by a delay). */
  async #legacyTokens(
    c: ConsultationRecord,
    booking: AppointmentRecord & { delayMinutes?: number | undefined },
    roomId: string,
    userIds: Record<Side, string>,
  ): Promise<LegacyTokens | null> {
    if (!this.deps.policy.legacyTokenColumns) return null;
    const now = this.#now();
    const expiresAt = joinTokenExpiry(c.status, joinWindow(booking, this.deps.policy), now);
    if (expiresAt.getTime() - now.getTime() < 60_000) return null;
    const mint = (side: Side) => this.deps.rooms.mintJoinToken({ roomId, userId: userIds[side], side, expiresAt });
    const [doctorToken, patientToken] = await Promise.all([mint("doctor"), mint("patient")]);
    return { doctorToken: doctorToken.token, patientToken: patientToken.token };
  }

  /** End or cancel: 100ms first, then a compare-and-set on the status (retried if it moved). */
  async #close(
    consultation: ConsultationRecord,
    action: Extract<LifecycleAction, "endByDoctor" | "cancel" | "expire">,
    actor: Actor,
    reason: string | null,
    noShow?: NoShow,
  ): Promise<ConsultationRecord> {
    let current = consultation;
    for (let attempt = 0; attempt < 3; attempt++) {
      const next = transition(current.status, action);
      if (!next.changed) return current;
      if (current.roomId) {
        // At expiry a side may still be waiting in the room: ending it tells their app why.
        if (action === "cancel") await this.deps.rooms.disable(current.roomId);
        else await this.deps.rooms.endAndLock(current.roomId, noShow && expiryRoomReason(noShow));
      }
      const ending = next.to === "completed";
      const endedAt = ending ? this.#now() : null;
      const closed = await this.deps.transaction(async ({ consultationWrites, eventLog, audit }) => {
        const row = await consultationWrites.close(current.id, current.appointmentId, {
          from: current.status,
          to: next.to as "completed" | "cancelled",
          endedAt,
          durationSeconds: endedAt ? secondsBetween(current.startedAt ?? endedAt, endedAt) : null,
          appointmentStatus: ending ? "completed" : noShow ? appointmentStatusOf(noShow) : "cancelled",
          closedByUserId: actor.userId,
          reason,
          cause: action === "endByDoctor" ? "doctor" : action === "expire" ? "no_show" : "cancelled",
          ...(noShow && { noShow }),
        });
        if (!row) return null;
        const at = endedAt ?? this.#now();
        await eventLog.append([statusEvent(row.id, current.status, row.status, at), ...(noShow?.absent ? [noShowEvent(row, at)] : [])]);
        await audit.insert([entry(actor, `consultation.${action === "endByDoctor" ? "end" : action}`, row)]);
        return row;
      });
      if (closed) return closed;
      // Lost the compare-and-set (a webhook or another request moved it): decide again.
      current = (await this.deps.reads.byIds([current.id]))[0]!;
    }
    throw new AppError("INVALID_STATE", "The consultation is changing; try again");
  }
}
