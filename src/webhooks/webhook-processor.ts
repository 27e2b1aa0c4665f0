/**
 * Applies stored 100ms webhooks: maps each room to its consultation and each peer
 * (`user_id` + `role`) to the doctor's or the patient's side, records the facts, and lets
 * LiveStatus derive presence and the lifecycle. A peer that is neither side is recorded and
 * flagged, never shown as a side. A batch is one transaction that also marks its inbox rows,
 * so an event is applied exactly once however often it is delivered or retried.
 */
import type { VideoPolicy } from "../config/config.js";
import type { ConsultationMembers, ConsultationRepo } from "../consultations/consultation.repo.js";
import type { Db } from "../db/client.js";
import type { LiveStatus } from "../live/live-status.service.js";
import type { PeerFact, PeerFactsRepo, SessionFact } from "../consultations/presence.repo.js";
import { peerSide, type Side } from "../consultations/presence.js";
import { JOIN_FAILED_PREFIX, storedLeaveReason } from "../consultations/departures.js";
import {
  ACTED_ON,
  peerDataSchema,
  roleChangeDataSchema,
  roomEndDataSchema,
  sessionDataSchema,
  type Envelope,
} from "./envelope.js";
import { InboxRepo, type InboxOutcome } from "./inbox.repo.js";

/** What became of an event; `duplicate` when another delivery or instance had applied it. */
export type ProcessOutcome = InboxOutcome | "duplicate";

/** The fact one event adds. */
type Fact =
  | { kind: "peer"; fact: PeerFact }
  | { kind: "session"; fact: SessionFact }
  | { kind: "role"; peerId: string; role: string; side: Side | null };

interface Plan {
  id: string;
  outcome: InboxOutcome;
  consultationId?: string;
  fact?: Fact;
}

export class WebhookProcessor {
  constructor(
    private readonly deps: {
      db: Db;
      consultations: ConsultationRepo;
      live: LiveStatus;
      roles: VideoPolicy["roles"];
      /**
       * The database answers on several connections at once (PostgreSQL): the rooms' read goes
       * beside the transaction's BEGIN. Not on PGlite: its one connection would hold that read
       * behind the transaction that waits for it.
       */
      readBesideBegin?: boolean;
    },
  ) {}

  /** Applies stored events in one transaction; outcomes in input order. Throws when they should be retried. */
  async processBatch(envelopes: readonly Envelope[]): Promise<ProcessOutcome[]> {
    const roomIds = new Set(envelopes.filter((e) => ACTED_ON.has(e.type)).map(roomIdOf).filter((id) => id !== null));
    if (roomIds.size === 0) {
      const plans = envelopes.map((e) => this.#plan(e, new Map()));
      const claimed = await new InboxRepo(this.deps.db).claim(plans);
      return plans.map((p) => (claimed.has(p.id) ? p.outcome : "duplicate"));
    }
    // The rooms' consultations read beside the transaction's BEGIN: one round trip for both.
    const planning = this.deps.consultations.findRoomMembersMany([...roomIds]).then((members) => envelopes.map((e) => this.#plan(e, members)));
    if (!this.deps.readBesideBegin) await planning;
    let claimed = new Set<string>();
    let plans: Plan[] = [];
    const toApply = planning.then((all) => all.filter((p) => p.fact !== undefined));
    const consultationIds = toApply.then((list) => list.map((p) => p.consultationId!));
    // Awaited inside the transaction, where a failure fails it; when BEGIN fails first, nobody does.
    for (const p of [planning, toApply, consultationIds]) p.catch(() => undefined);
    await this.deps.live.updateMany(consultationIds, async (repos, locking) => {
      plans = await planning;
      const [claimedNow, locked] = await Promise.all([repos.inbox.claim(plans), locking]);
      claimed = claimedNow;
      const facts = (await toApply).filter((p) => claimed.has(p.id) && locked.has(p.consultationId!)).map((p) => p.fact!);
      return { written: record(repos.peerFacts, facts) };
    });
    return plans.map((p) => (claimed.has(p.id) ? p.outcome : "duplicate"));
  }

  #plan(envelope: Envelope, members: ReadonlyMap<string, ConsultationMembers>): Plan {
    const { id } = envelope;
    if (!ACTED_ON.has(envelope.type)) return { id, outcome: "ignored" };
    const room = roomIdOf(envelope);
    const consultation = room === null ? undefined : members.get(room);
    if (!consultation) return { id, outcome: "unknown_room" };
    const fact = this.#factOf(envelope, consultation);
    if (!fact) return { id, outcome: "invalid_data" };
    return { id, outcome: "applied", consultationId: consultation.consultationId, fact };
  }

  /** The fact this event adds, or null when its data is not usable. */
  #factOf(envelope: Envelope, members: ConsultationMembers): Fact | null {
    const { consultationId } = members;
    switch (envelope.type) {
      case "peer.join.success":
      case "peer.leave.success":
      case "peer.join.failure": {
        const d = peerDataSchema.safeParse(envelope.data);
        if (!d.success) return null;
        const failed = envelope.type === "peer.join.failure";
        return {
          kind: "peer",
          fact: {
            peerId: d.data.peer_id,
            consultationId,
            sessionId: d.data.session_id ?? null,
            userId: d.data.user_id ?? null,
            role: d.data.role ?? null,
            side: peerSide(members, this.deps.roles, d.data.user_id, d.data.role),
            // A failed join never put the peer in the room; its `leftAt` is when it failed.
            joinedAt: failed ? null : d.data.joined_at,
            leftAt: envelope.type === "peer.join.success" ? null : (d.data.left_at ?? new Date(envelope.timestamp)),
            leftReason: failed ? `${JOIN_FAILED_PREFIX}${d.data.error_message ?? "unknown"}`.slice(0, 200) : storedLeaveReason(d.data.reason, d.data.message),
          },
        };
      }
      case "session.open.success":
      case "session.close.success": {
        const d = sessionDataSchema.safeParse(envelope.data);
        if (!d.success) return null;
        return {
          kind: "session",
          fact: {
            sessionId: d.data.session_id,
            consultationId,
            startedAt: d.data.session_started_at,
            stoppedAt: envelope.type === "session.close.success" ? (d.data.session_stopped_at ?? new Date(envelope.timestamp)) : null,
          },
        };
      }
      case "room.end.success": {
        const d = roomEndDataSchema.safeParse(envelope.data);
        if (!d.success || !d.data.session_id) return null;
        const by = d.data.source === "peer" ? peerSide(members, this.deps.roles, d.data.user_id, d.data.role) : null;
        const end = { roomEndedAt: new Date(envelope.timestamp), roomEndReason: d.data.reason?.slice(0, 200) || null, roomEndedBy: by };
        return { kind: "session", fact: { sessionId: d.data.session_id, consultationId, ...end } };
      }
      case "role.change.success": {
        const d = roleChangeDataSchema.safeParse(envelope.data);
        if (!d.success) return null;
        return { kind: "role", peerId: d.data.peer_id, role: d.data.role, side: peerSide(members, this.deps.roles, d.data.user_id, d.data.role) };
      }
      default:
        return null;
    }
  }
}

/**
 * Sends the facts' writes without waiting between them: joins and sessions (one statement
 * each), then role changes in delivery order (a role change may be about a peer whose join is
 * in this batch; the connection runs them in the order sent).
 */
function record(facts: PeerFactsRepo, list: readonly Fact[]): Promise<unknown> {
  return Promise.all([
    facts.recordPeers(list.flatMap((f) => (f.kind === "peer" ? [f.fact] : []))),
    facts.recordSessions(list.flatMap((f) => (f.kind === "session" ? [f.fact] : []))),
    ...list.flatMap((f) => (f.kind === "role" ? [facts.changeRole(f.peerId, f.role, f.side)] : [])),
  ]);
}

function roomIdOf(envelope: Envelope): string | null {
  return typeof envelope.data.room_id === "string" ? envelope.data.room_id : null;
}
