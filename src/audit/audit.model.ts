/** One audit record: who touched which patient data, how, when, from where. Ids only. */
import type { Viewer } from "../auth/viewer.js";
import { isUuid } from "../kit/ids.js";

export type AuditOutcome = "allowed" | "denied" | "error";
export type ActorRole = Viewer["role"] | "webhook" | "system";

export interface AuditEntry {
  /** When the access happened (not when the record was written: reads are written later). */
  occurredAt: Date;
  actorId: string | null;
  actorRole: ActorRole | null;
  action: string;
  consultationId: string | null;
  patientId: string | null;
  /**
   * A record of several consultations (one request's reads): their ids in the order read and,
   * at the same index, each one's patient; `consultationId` and `patientId` are then null.
   * Listed, the record is one event per consultation.
   */
  consultationIds?: readonly string[] | null;
  patientIds?: readonly string[] | null;
  outcome: AuditOutcome;
  /** Set on a record of repeated denials: how many refusals it stands for (see denial-folding.ts). */
  repeats?: number | null;
  requestId: string | null;
  clientIp: string | null;
  /** What the record is about when it is not a consultation: a partner endpoint's id. */
  targetId?: string | null;
}

/** Who is acting, and over which request: what every audited service call receives. */
export interface Actor {
  userId: string | null;
  role: ActorRole;
  requestId: string | null;
  clientIp: string | null;
}

export function actorOf(viewer: Viewer, meta: { requestId: string; clientIp: string | null }): Actor {
  return { userId: viewer.userId, role: viewer.role, requestId: meta.requestId, clientIp: meta.clientIp };
}

export const SYSTEM_ACTOR: Actor = { userId: null, role: "system", requestId: null, clientIp: null };
export const WEBHOOK_ACTOR: Actor = { userId: null, role: "webhook", requestId: null, clientIp: null };

/** `subject` is a consultation record, or the ids of one. */
export function entry(
  actor: Actor,
  action: string,
  subject: { id: string; patientId: string } | { consultationId?: string | null; patientId?: string | null },
  outcome: AuditOutcome = "allowed",
): AuditEntry {
  const consultationId = "id" in subject ? subject.id : (subject.consultationId ?? null);
  return {
    occurredAt: new Date(),
    actorId: actor.userId,
    actorRole: actor.role,
    action,
    consultationId,
    patientId: subject.patientId ?? null,
    outcome,
    requestId: actor.requestId,
    clientIp: actor.clientIp,
  };
}

/** One record of every consultation a request returned (consultation id -> patient id, in the order read). */
export function readsEntry(actor: Actor, reads: ReadonlyMap<string, string>): AuditEntry {
  return { ...entry(actor, "consultation.read", {}), consultationIds: [...reads.keys()], patientIds: [...reads.values()] };
}

/** A consultation id as a caller gave it, for a record: kept only when it is a uuid (lower-cased). */
export function subjectId(consultationId: string | null): string | null {
  return consultationId && isUuid(consultationId) ? consultationId.toLowerCase() : null;
}
