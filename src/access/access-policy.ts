/**
 * The one home of a viewer's rights over consultations, for the SQL that reads them and for
 * the checks made in memory alike: which rows a viewer sees (`ownedBy`, `listScope`,
 * `eventScope`), whether one record or event is theirs (`maySee`), which side of the call they
 * are on (`sideOf`), who may act on it (join, end the call, prescribe, announce a delay, report
 * call quality), who may read the attendance ledger and the audit trail, and when an open
 * stream's rights changed (`sameRights`). Roles are compared here and nowhere else; the
 * table in test/unit/access-policy.test.ts holds every rule's answers.
 *
 * A doctor sees the consultations they hold, a patient their own, an admin every one; a doctor
 * or patient user without a profile row sees nothing.
 */
import { eq, sql, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Viewer } from "../auth/viewer.js";

export type Side = "doctor" | "patient";

/** What a consultation (or an event, an appointment) says of its two sides. */
export interface Parties {
  doctorId: string;
  patientId: string;
}

/** The SQL condition limiting rows to the viewer's own; undefined (everything) for an admin. */
export function ownedBy(viewer: Viewer, columns: { doctorId: AnyPgColumn; patientId: AnyPgColumn }): SQL | undefined {
  switch (viewer.role) {
    case "admin":
      return undefined;
    case "doctor":
      return viewer.doctorId ? eq(columns.doctorId, viewer.doctorId) : sql`false`;
    case "patient":
      return viewer.patientId ? eq(columns.patientId, viewer.patientId) : sql`false`;
  }
}

/**
 * The same scope as a value for a prepared statement: whose rows (`all`, `none`, or the
 * doctor's or patient's id under its side).
 */
export function listScope(viewer: Viewer): { owner: "all" | "none" | Side; id: string | null } {
  if (viewer.role === "admin") return { owner: "all", id: null };
  const id = viewer.role === "doctor" ? viewer.doctorId : viewer.patientId;
  return id ? { owner: viewer.role, id } : { owner: "none", id: null };
}

/** The same scope for the event log: a doctor's or a patient's events, or every one. */
export function eventScope(viewer: Viewer): { doctorId: string } | { patientId: string } | { all: true } {
  if (viewer.role === "admin") return { all: true };
  return viewer.role === "doctor" ? { doctorId: viewer.doctorId ?? "" } : { patientId: viewer.patientId ?? "" };
}

/** Whether the viewer may see this consultation (or its event): the in-memory twin of `ownedBy`. */
export function maySee(viewer: Viewer, parties: Parties): boolean {
  if (viewer.role === "admin") return true;
  return viewer.role === "doctor" ? parties.doctorId === viewer.doctorId : parties.patientId === viewer.patientId;
}

/** Which side of the call the viewer is on, if any (admins are on neither). */
export function sideOf(viewer: Viewer, parties: Parties): Side | null {
  if (viewer.doctorId !== null && viewer.doctorId === parties.doctorId) return "doctor";
  if (viewer.patientId !== null && viewer.patientId === parties.patientId) return "patient";
  return null;
}

/**
 * The attendance ledger is billing evidence: the consultation's own doctor and patient, and
 * admins. Anyone else who can see the consultation is refused this field only.
 */
export function mayReadAttendance(viewer: Viewer, parties: Parties): boolean {
  return viewer.role === "admin" || sideOf(viewer, parties) !== null;
}

/** A delay ("running late") is announced by the consultation's doctor, or an admin for them. */
export function mayAnnounceDelay(viewer: Viewer, parties: Parties): boolean {
  return viewer.role === "admin" || sideOf(viewer, parties) === "doctor";
}

/** A join token is for the caller's own side: the consultation's doctor or patient (an admin has no side to join). */
export function mayJoin(viewer: Viewer, parties: Parties): Side | null {
  return sideOf(viewer, parties);
}

/** The call is ended for both sides by the consultation's own doctor (not an admin, not the patient). */
export function mayEndCall(viewer: Viewer, parties: Parties): boolean {
  return sideOf(viewer, parties) === "doctor";
}

/** Prescriptions are written by the consultation's own doctor only. */
export function mayPrescribe(viewer: Viewer, parties: Parties): boolean {
  return sideOf(viewer, parties) === "doctor";
}

/** Call quality is reported by a side's own app, for that side only: the consultation's doctor or patient. */
export function mayReportQuality(viewer: Viewer, parties: Parties): Side | null {
  return sideOf(viewer, parties);
}

/** The audit trail is the admins'. */
export function mayReadAuditTrail(viewer: Viewer): boolean {
  return viewer.role === "admin";
}

/** Partner webhook endpoints, their delivery logs and their levers (redeliver, replay) are the admins'. */
export function mayManagePartnerEndpoints(viewer: Viewer): boolean {
  return viewer.role === "admin";
}

/** Whether a user's row still grants what it granted when a stream started (role and links). */
export function sameRights(started: Viewer, current: Viewer): boolean {
  return current.role === started.role && current.doctorId === started.doctorId && current.patientId === started.patientId;
}

/** The viewer's rights as a key: two viewers with equal keys see and may do exactly the same. */
export function rightsKey(viewer: Viewer): string {
  return `${viewer.role}:${viewer.doctorId ?? ""}:${viewer.patientId ?? ""}`;
}
