import { present } from "../kit/loaded.js";
import type { LiveRow } from "./presence.repo.js";
import type { Side } from "./presence.js";
import { presenceStateAt, stateAfterEvent, type PresenceState as State } from "./reconnects.js";
import { Participant, ParticipantRole, PresenceState } from "./consultation.type.js";
import type { LeaveReason } from "./departure.type.js";

interface Person {
  userId: string;
  fullName: string;
}

interface Presence {
  online: boolean;
  state: State;
  reconnectingUntil: Date | null;
  peerId: string | null;
  joinedAt: Date | null;
  leftAt: Date | null;
  leftReason: string | null;
  leftReasonDetail: string | null;
}

const OFFLINE: Presence = { online: false, state: "offline", reconnectingUntil: null, peerId: null, joinedAt: null, leftAt: null, leftReason: null, leftReasonDetail: null };

export function participantOf(side: Side, person: Person, presence: Presence = OFFLINE, call?: { id: string; endedAt: Date | null }): Participant {
  return Object.assign(new Participant(), {
    consultationId: call?.id,
    until: call?.endedAt ?? null,
    userId: person.userId,
    role: side === "doctor" ? ParticipantRole.DOCTOR : ParticipantRole.PATIENT,
    fullName: person.fullName,
    ...presence,
    state: presence.state as PresenceState,
    leftReason: presence.leftReason as LeaveReason | null,
  });
}

/** A side's presence from the live projection at `now` (offline when nothing was reported yet). */
export function presenceOf(side: Side, live: LiveRow | null, now = new Date()): Presence {
  if (!live) return OFFLINE;
  const p = side === "doctor"
    ? { online: live.doctorOnline, until: live.doctorReconnectingUntil, peerId: live.doctorPeerId, joinedAt: live.doctorJoinedAt, leftAt: live.doctorLeftAt, cause: live.doctorLeftCause, detail: live.doctorLeftDetail }
    : { online: live.patientOnline, until: live.patientReconnectingUntil, peerId: live.patientPeerId, joinedAt: live.patientJoinedAt, leftAt: live.patientLeftAt, cause: live.patientLeftCause, detail: live.patientLeftDetail };
  const state = presenceStateAt(p.online, p.until, now);
  const left = p.online ? { leftReason: null, leftReasonDetail: null } : { leftReason: p.cause, leftReasonDetail: p.detail };
  return { online: p.online, state, reconnectingUntil: state === "reconnecting" ? p.until : null, peerId: p.peerId, joinedAt: p.joinedAt, leftAt: p.leftAt, ...left };
}

/** What a side's timeline event (a join, a leave, going offline) says of its presence right after it. */
export function presenceAfterEvent(event: {
  type: string;
  leftReason: string | null;
  peerId: string | null;
  occurredAt: Date;
  joinedAt: Date | null;
  leaveCause?: string | null;
  leaveDetail?: string | null;
}): Presence {
  const joined = event.type === "PARTICIPANT_JOINED";
  const failed = event.type === "PARTICIPANT_JOIN_FAILED";
  return {
    online: joined,
    state: stateAfterEvent(event.type, event.leftReason),
    reconnectingUntil: null,
    peerId: event.peerId,
    joinedAt: joined ? event.occurredAt : event.joinedAt,
    leftAt: joined || failed ? null : event.occurredAt,
    leftReason: joined ? null : (event.leaveCause ?? null),
    leftReasonDetail: joined ? null : (event.leaveDetail ?? null),
  };
}

/** The two entries of `Consultation.participants`: the doctor's, then the patient's. */
export function participantsOf(doctor: Person | null, patient: Person | null, live: LiveRow | null, call?: { id: string; endedAt: Date | null }): Participant[] {
  return [
    participantOf("doctor", present(doctor, "doctor"), presenceOf("doctor", live), call),
    participantOf("patient", present(patient, "patient"), presenceOf("patient", live), call),
  ];
}
