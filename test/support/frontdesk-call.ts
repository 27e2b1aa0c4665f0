/**
 * A call in which each side leaves in every way 100ms reports, as its webhooks: the patient's
 * first join is refused, the patient drops (websocket closed) and comes back, the doctor's
 * connection is removed when they rejoin from another device (peer kicked), and the doctor
 * ends the room for both (room.end.success, then both leave, then the session closes).
 */
import { randomUUID } from "node:crypto";
import type { CallParties } from "./call-script.js";
import {
  peerJoinFailure,
  peerJoinSuccess,
  peerLeaveSuccess,
  roomEndSuccess,
  sessionCloseSuccess,
  sessionOpenSuccess,
  type HmsWebhook,
} from "./hms-webhooks.js";

/** Seconds from the start of the script. */
export const DEPARTURES = { joinFails: 5, patientJoins: 10, doctorJoins: 60, patientDrops: 200, patientBack: 220, doctorKicked: 300, doctorBack: 305, roomEnded: 600 } as const;
export const END_REASON = "Consultation finished";
export const STALE_MESSAGE = "Rejoined from another connection";

export function departuresCall(parties: CallParties, start: Date): HmsWebhook[] {
  const at = (s: number) => new Date(start.getTime() + s * 1000);
  const ctx = { appId: "app-1", accountId: "acct-1" };
  const room = { roomId: parties.roomId, roomName: "consultation-x", templateId: "tpl" };
  const session = { ...room, sessionId: randomUUID().replaceAll("-", "").slice(0, 24), sessionStartedAt: at(DEPARTURES.patientJoins) };
  const peer = (side: "doctor" | "patient", joined: number) => ({
    peerId: randomUUID(), userId: parties[`${side}UserId`], userName: side, userData: "", role: side, joinedAt: at(joined),
  });
  const p2 = peer("patient", DEPARTURES.patientJoins);
  const p3 = peer("patient", DEPARTURES.patientBack);
  const d1 = peer("doctor", DEPARTURES.doctorJoins);
  const d2 = peer("doctor", DEPARTURES.doctorBack);
  const { joinedAt: _j, ...refused } = peer("patient", DEPARTURES.joinFails);
  return [
    peerJoinFailure(ctx, room, refused, { at: at(DEPARTURES.joinFails), errorMessage: "role not allowed" }),
    sessionOpenSuccess(ctx, session),
    peerJoinSuccess(ctx, session, p2),
    peerJoinSuccess(ctx, session, d1),
    peerLeaveSuccess(ctx, session, p2, { leftAt: at(DEPARTURES.patientDrops), reason: "websocket closed" }),
    peerJoinSuccess(ctx, session, p3),
    peerLeaveSuccess(ctx, session, d1, { leftAt: at(DEPARTURES.doctorKicked), reason: "peer kicked", message: STALE_MESSAGE }),
    peerJoinSuccess(ctx, session, d2),
    roomEndSuccess(ctx, session, { at: at(DEPARTURES.roomEnded), by: { peerId: d2.peerId, userId: d2.userId, userName: "doctor", role: "doctor" }, lockRoom: true, reason: END_REASON }),
    peerLeaveSuccess(ctx, session, d2, { leftAt: at(DEPARTURES.roomEnded), reason: "client request" }),
    peerLeaveSuccess(ctx, session, p3, { leftAt: at(DEPARTURES.roomEnded), reason: "peer kicked", message: END_REASON }),
    sessionCloseSuccess(ctx, session, at(DEPARTURES.roomEnded)),
  ];
}
