/**
 * Applies one stored 100ms webhook: maps the room to its consultation and the peer
 * (`user_id` + `role`) to the doctor's or the patient's side, records the fact, and lets
 * LiveStatus derive presence and the lifecycle. A peer that is neither side is recorded and
 * flagged, never shown as a side. The inbox row is marked in the same transaction.
 */
import type { VideoPolicy } from "../config.js";
import type { ConsultationRepo } from "../consultations/consultation.repo.js";
import type { Db } from "../db/client.js";
import type { LiveStatus } from "../live/live-status.service.js";
import type { PeerFactsRepo } from "../live/peer-facts.repo.js";
import { peerSide } from "../live/presence.js";
import {
  ACTED_ON,
  peerDataSchema,
  roleChangeDataSchema,
  roomEndDataSchema,
  sessionDataSchema,
  type Envelope,
} from "./envelope.js";
import { InboxRepo, type InboxOutcome } from "./inbox.repo.js";

interface Members {
  consultationId: string;
  doctorUserId: string;
  patientUserId: string;
}

export class WebhookProcessor {
  constructor(
    private readonly deps: {
      db: Db;
      consultations: ConsultationRepo;
      live: LiveStatus;
      roles: VideoPolicy["roles"];
    },
  ) {}

  /** Applies a stored event; returns what became of it. Throws when it should be retried. */
  async process(envelope: Envelope): Promise<InboxOutcome> {
    const inbox = new InboxRepo(this.deps.db);
    const roomId = typeof envelope.data.room_id === "string" ? envelope.data.room_id : null;
    const members = ACTED_ON.has(envelope.type) && roomId ? await this.deps.consultations.findRoomMembers(roomId) : null;
    const apply = members ? this.#applier(envelope, members) : null;
    const outcome: InboxOutcome = !ACTED_ON.has(envelope.type) ? "ignored" : !members ? "unknown_room" : apply ? "applied" : "invalid_data";
    if (!apply || !members) {
      await inbox.markProcessed(envelope.id, outcome);
      return outcome;
    }
    await this.deps.live.update(members.consultationId, async (facts, tx) => {
      await apply(facts);
      await new InboxRepo(tx).markProcessed(envelope.id, "applied");
    });
    return "applied";
  }

  /** The fact this event adds, or null when its data is not usable. */
  #applier(envelope: Envelope, members: Members): ((facts: PeerFactsRepo) => Promise<void>) | null {
    const { consultationId } = members;
    switch (envelope.type) {
      case "peer.join.success":
      case "peer.leave.success":
      case "peer.join.failure": {
        const d = peerDataSchema.safeParse(envelope.data);
        if (!d.success) return null;
        const failed = envelope.type === "peer.join.failure";
        return (facts) =>
          facts.recordPeer({
            peerId: d.data.peer_id,
            consultationId,
            sessionId: d.data.session_id ?? null,
            userId: d.data.user_id ?? null,
            role: d.data.role ?? null,
            side: peerSide(members, this.deps.roles, d.data.user_id, d.data.role),
            // A failed join never put the peer in the room.
            joinedAt: failed ? null : d.data.joined_at,
            leftAt: envelope.type === "peer.leave.success" ? (d.data.left_at ?? new Date(envelope.timestamp)) : null,
            leftReason: failed ? `join failed: ${d.data.error_message ?? "unknown"}`.slice(0, 200) : (d.data.reason ?? null),
          });
      }
      case "session.open.success":
      case "session.close.success": {
        const d = sessionDataSchema.safeParse(envelope.data);
        if (!d.success) return null;
        return (facts) =>
          facts.recordSession({
            sessionId: d.data.session_id,
            consultationId,
            startedAt: d.data.session_started_at,
            stoppedAt: envelope.type === "session.close.success" ? (d.data.session_stopped_at ?? new Date(envelope.timestamp)) : null,
          });
      }
      case "room.end.success": {
        const d = roomEndDataSchema.safeParse(envelope.data);
        if (!d.success || !d.data.session_id) return null;
        const sessionId = d.data.session_id;
        return (facts) => facts.recordSession({ sessionId, consultationId, roomEndedAt: new Date(envelope.timestamp) });
      }
      case "role.change.success": {
        const d = roleChangeDataSchema.safeParse(envelope.data);
        if (!d.success) return null;
        return (facts) => facts.changeRole(d.data.peer_id, d.data.role, peerSide(members, this.deps.roles, d.data.user_id, d.data.role));
      }
      default:
        return null;
    }
  }

}
