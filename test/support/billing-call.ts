/**
 * The call of issue 14 as 100ms would report it, with its connections as data so a test can
 * also show the stand-in's active-room view at any moment of the script: the patient is in
 * from 0 to 700 s (optionally on two devices overlapping by 30 s); the doctor from 60 to 600 s,
 * dropping with "websocket closed", and back from 620 to 650 s. Connected: 540 + 30 = 570 s.
 */
import { randomUUID } from "node:crypto";
import type { StandInRoom } from "./hms-stand-in-model.js";
import {
  peerJoinSuccess,
  peerLeaveSuccess,
  sessionCloseSuccess,
  sessionOpenSuccess,
  type HmsLeaveReason,
  type HmsWebhook,
} from "./hms-webhooks.js";
import type { CallParties } from "./call-script.js";

export const BILLING = { doctorJoins: 60, sessionEnds: 700, connectedSeconds: 570, scriptSeconds: 760 } as const;

interface ScriptedConnection {
  side: "doctor" | "patient";
  from: number;
  to: number;
  reason: HmsLeaveReason;
}

export function billingConnections(twoPatientDevices: boolean): ScriptedConnection[] {
  const patient: ScriptedConnection[] = twoPatientDevices
    ? [{ side: "patient", from: 0, to: 400, reason: "client request" }, { side: "patient", from: 370, to: 700, reason: "client request" }]
    : [{ side: "patient", from: 0, to: 700, reason: "client request" }];
  return [
    ...patient,
    { side: "doctor", from: 60, to: 600, reason: "websocket closed" },
    { side: "doctor", from: 620, to: 650, reason: "client request" },
  ];
}

export interface BillingCall {
  webhooks: HmsWebhook[];
  /** Puts the connections open at script second `t` into the stand-in's room, as its active-peers API reports them. */
  showAt(room: StandInRoom, t: number): void;
}

export function billingCall(parties: CallParties, start: Date, twoPatientDevices = false): BillingCall {
  const at = (s: number) => new Date(start.getTime() + s * 1000);
  const ctx = { appId: "app-1", accountId: "acct-1" };
  const session = { roomId: parties.roomId, roomName: "consultation-x", templateId: "tpl", sessionId: randomUUID().replaceAll("-", "").slice(0, 24), sessionStartedAt: at(0) };
  const peers = billingConnections(twoPatientDevices).map((c) => ({
    ...c,
    peer: {
      peerId: randomUUID(),
      userId: c.side === "doctor" ? parties.doctorUserId : parties.patientUserId,
      userName: c.side,
      userData: "",
      role: c.side,
      joinedAt: at(c.from),
    },
  }));
  const webhooks: HmsWebhook[] = [
    sessionOpenSuccess(ctx, session),
    ...peers.flatMap((c) => [
      peerJoinSuccess(ctx, session, c.peer),
      peerLeaveSuccess(ctx, session, c.peer, { leftAt: at(c.to), reason: c.reason }),
    ]),
    sessionCloseSuccess(ctx, session, at(BILLING.sessionEnds)),
  ];
  const showAt = (room: StandInRoom, t: number) => {
    const open = peers.filter((c) => c.from <= t && t < c.to);
    room.session = open.length === 0 ? null : {
      id: session.sessionId,
      createdAt: at(0),
      peers: new Map(open.map((c) => [c.peer.peerId, {
        id: c.peer.peerId, userId: c.peer.userId, role: c.peer.role, name: c.peer.userName, metadata: "", joinedAt: c.peer.joinedAt,
      }])),
    };
  };
  return { webhooks, showAt };
}
