/**
 * A scripted 1:1 call as 100ms would report it, built with the documented webhook bodies:
 * the patient joins and waits, the doctor joins, they talk, the doctor's app is killed (its
 * leave comes 60 s later, reason "websocket closed"), the patient leaves, the session closes.
 */
import { randomUUID } from "node:crypto";
import {
  peerJoinSuccess,
  peerLeaveSuccess,
  sessionCloseSuccess,
  sessionOpenSuccess,
  type HmsWebhook,
} from "./hms-webhooks.js";

export interface CallParties {
  roomId: string;
  doctorUserId: string;
  patientUserId: string;
}

/** Seconds from the start of the script. */
export const SCRIPT = { doctorJoins: 60, doctorKilled: 300, doctorLeaveReported: 360, patientLeaves: 400 } as const;
export const SCRIPT_CONNECTED_SECONDS = SCRIPT.doctorLeaveReported - SCRIPT.doctorJoins;

export function scriptedCall(parties: CallParties, start: Date): HmsWebhook[] {
  const at = (s: number) => new Date(start.getTime() + s * 1000);
  const ctx = { appId: "app-1", accountId: "acct-1" };
  const session = { roomId: parties.roomId, roomName: `consultation-x`, templateId: "tpl", sessionId: randomUUID().replaceAll("-", "").slice(0, 24), sessionStartedAt: at(0) };
  const patient = { peerId: randomUUID(), userId: parties.patientUserId, userName: "Patient", userData: "", role: "patient", joinedAt: at(0) };
  const doctor = { peerId: randomUUID(), userId: parties.doctorUserId, userName: "Doctor", userData: "", role: "doctor", joinedAt: at(SCRIPT.doctorJoins) };
  return [
    sessionOpenSuccess(ctx, session),
    peerJoinSuccess(ctx, session, patient),
    peerJoinSuccess(ctx, session, doctor),
    peerLeaveSuccess(ctx, session, doctor, { leftAt: at(SCRIPT.doctorLeaveReported), reason: "websocket closed" }),
    peerLeaveSuccess(ctx, session, patient, { leftAt: at(SCRIPT.patientLeaves), reason: "client request" }),
    sessionCloseSuccess(ctx, session, at(SCRIPT.patientLeaves)),
  ];
}
