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
  // Field by field: a dashboard page makes 100 of these (a spread into a literal, then
  // Object.assign, cost three objects each).
  const participant = new Participant();
  participant.consultationId = call?.id;
  participant.until = call?.endedAt ?? null;
  participant.userId = person.userId;
  participant.role = side === "doctor" ? ParticipantRole.DOCTOR : ParticipantRole.PATIENT;
  participant.fullName = person.fullName;
  participant.online = presence.online;
  participant.state = presence.state as PresenceState;
  participant.reconnectingUntil = presence.reconnectingUntil;
  participant.peerId = presence.peerId;
  participant.joinedAt = presence.joinedAt;
  participant.leftAt = presence.leftAt;
  participant.leftReason = presence.leftReason as LeaveReason | null;
  participant.leftReasonDetail = presence.leftReasonDetail;
  return participant;
}

/** A side's presence from the live projection at `now` (offline when nothing was reported yet). */
export function presenceOf(side: Side, live: LiveRow | null, now = new Date()): Presence {
  if (!live) return OFFLINE;
  const doctor = side === "doctor";
  const online = doctor ? live.doctorOnline : live.patientOnline;
  const until = doctor ? live.doctorReconnectingUntil : live.patientReconnectingUntil;
  const state = presenceStateAt(online, until, now);
  return {
    online,
    state,
    reconnectingUntil: state === "reconnecting" ? until : null,
    peerId: doctor ? live.doctorPeerId : live.patientPeerId,
    joinedAt: doctor ? live.doctorJoinedAt : live.patientJoinedAt,
    leftAt: doctor ? live.doctorLeftAt : live.patientLeftAt,
    leftReason: online ? null : doctor ? live.doctorLeftCause : live.patientLeftCause,
    leftReasonDetail: online ? null : doctor ? live.doctorLeftDetail : live.patientLeftDetail,
  };
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
  const now = new Date();
  return [
    participantOf("doctor", present(doctor, "doctor"), presenceOf("doctor", live, now), call),
    participantOf("patient", present(patient, "patient"), presenceOf("patient", live, now), call),
  ];
}
