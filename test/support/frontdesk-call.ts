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

/**
 * A call that ends without anyone ending it for both: each side leaves by itself (everyone
 * left), or, with `maxDuration`, 100ms ends the room from its side (`source: "api"`, no peer)
 * at the room's maximum duration and removes both.
 */
export function endedCall(parties: CallParties, start: Date, options: { maxDuration?: string } = {}): HmsWebhook[] {
  const at = (s: number) => new Date(start.getTime() + s * 1000);
  const ctx = { appId: "app-1", accountId: "acct-1" };
  const session = { roomId: parties.roomId, roomName: "consultation-x", templateId: "tpl", sessionId: randomUUID().replaceAll("-", "").slice(0, 24), sessionStartedAt: at(0) };
  const peer = (side: "doctor" | "patient", joined: number) => ({ peerId: randomUUID(), userId: parties[`${side}UserId`], userName: side, userData: "", role: side, joinedAt: at(joined) });
  const [patient, doctor] = [peer("patient", 0), peer("doctor", 30)];
  const leave = (p: typeof patient, s: number) =>
    peerLeaveSuccess(ctx, session, p, options.maxDuration ? { leftAt: at(s), reason: "peer kicked", message: options.maxDuration } : { leftAt: at(s), reason: "client request" });
  return [
    sessionOpenSuccess(ctx, session),
    peerJoinSuccess(ctx, session, patient),
    peerJoinSuccess(ctx, session, doctor),
    ...(options.maxDuration ? [roomEndSuccess(ctx, session, { at: at(300), by: null, lockRoom: false, reason: options.maxDuration })] : []),
    leave(doctor, options.maxDuration ? 300 : 280),
    leave(patient, 300),
    sessionCloseSuccess(ctx, session, at(300)),
  ];
}
