/** GraphQL enums of why a side left and why a call ended (the rules: departures.ts). */
import { registerEnumType } from "type-graphql";

/** Keys are the GraphQL names; values are the rules' (src/consultations/departures.ts). */
export enum LeaveReason {
  LEFT = "left",
  REMOVED = "removed",
  NETWORK = "network",
  JOIN_FAILED = "join_failed",
  CALL_ENDED = "call_ended",
  OTHER = "other",
}
registerEnumType(LeaveReason, {
  name: "LeaveReason",
  description: "Why a side is out of the room, from what 100ms reported (its own words are in the `…Detail` field beside it).",
  valuesConfig: {
    LEFT: { description: "The app left (100ms: `client request`)." },
    REMOVED: { description: "Removed: kicked (`peer kicked`, with the kick's message), including a stale connection the API removed when the side rejoined; or `server removed peer`." },
    NETWORK: { description: "Dropped (`websocket closed`, `ice connection state closed`, `network disconnection`): the side is RECONNECTING until it rejoins or its window passes." },
    JOIN_FAILED: { description: "The side tried to join and 100ms refused it (peer.join.failure; the detail is 100ms's `error_message`)." },
    CALL_ENDED: { description: "The room was ended while the side was in it: by the doctor, by the API (the doctor's end, the join window's expiry) or by 100ms (the room's maximum duration); `Consultation.endReason` says which." },
    OTHER: { description: "Any other reason, or none reported (a session close without the peer's own leave, a leave the reconciler inferred): the catch-all, never an error." },
  },
});

/** Keys are the GraphQL names; values are the rules' (`CallEnd`). */
export enum CallEndReason {
  DOCTOR = "doctor",
  EVERYONE_LEFT = "everyone_left",
  MAX_DURATION = "max_duration",
  NO_SHOW = "no_show",
  CANCELLED = "cancelled",
  OTHER = "other",
}
registerEnumType(CallEndReason, {
  name: "CallEndReason",
  description: "Why a consultation's call ended.",
  valuesConfig: {
    DOCTOR: { description: "The doctor ended it (`endConsultation`, or ended the room from the app)." },
    EVERYONE_LEFT: { description: "Both sides left and nobody came back within COMPLETION_GRACE_SECONDS: the API completed it." },
    MAX_DURATION: { description: "100ms ended the session at the room's maximum duration." },
    NO_SHOW: { description: "The join window closed before the call became ACTIVE: the API expired it (`Consultation.noShow` says who never came)." },
    CANCELLED: { description: "Cancelled by the doctor, the patient or an admin." },
    OTHER: { description: "Ended some other way (a room ended from outside the apps)." },
  },
});
