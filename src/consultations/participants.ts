import { present } from "../loaders.js";
import type { LiveRow } from "../live/live-state.repo.js";
import type { Side } from "../live/presence.js";
import { Participant, ParticipantRole } from "./consultation.type.js";

interface Person {
  userId: string;
  fullName: string;
}

interface Presence {
  online: boolean;
  peerId: string | null;
  joinedAt: Date | null;
  leftAt: Date | null;
}

const OFFLINE: Presence = { online: false, peerId: null, joinedAt: null, leftAt: null };

export function participantOf(side: Side, person: Person, presence: Presence = OFFLINE): Participant {
  return Object.assign(new Participant(), {
    userId: person.userId,
    role: side === "doctor" ? ParticipantRole.DOCTOR : ParticipantRole.PATIENT,
    fullName: person.fullName,
    ...presence,
  });
}

/** A side's presence from the live projection (offline when nothing was reported yet). */
export function presenceOf(side: Side, live: LiveRow | null): Presence {
  if (!live) return OFFLINE;
  return side === "doctor"
    ? { online: live.doctorOnline, peerId: live.doctorPeerId, joinedAt: live.doctorJoinedAt, leftAt: live.doctorLeftAt }
    : { online: live.patientOnline, peerId: live.patientPeerId, joinedAt: live.patientJoinedAt, leftAt: live.patientLeftAt };
}

/** The two entries of `Consultation.participants`: the doctor's, then the patient's. */
export function participantsOf(doctor: Person | null, patient: Person | null, live: LiveRow | null): Participant[] {
  return [
    participantOf("doctor", present(doctor, "doctor"), presenceOf("doctor", live)),
    participantOf("patient", present(patient, "patient"), presenceOf("patient", live)),
  ];
}
