/**
 * Webhooks get lost; this job repairs what they missed. Periodically (and once at start), in
 * one instance at a time (advisory lock):
 *  1. retries webhooks stored but not processed;
 *  2. for consultations with anybody marked in the room, asks 100ms who really is, and records
 *     the missed leaves and joins as inferred facts (a webhook's report replaces them);
 *  3. completes ACTIVE consultations whose grace period has passed;
 *  4. expires PENDING consultations whose join window closed (the call never became ACTIVE),
 *     recording which side never came.
 */
import type { VideoPolicy } from "../config/config.js";
import type { ConsultationRepo } from "../consultations/consultation.repo.js";
import type { ConsultationCommands } from "../consultations/consultation-commands.service.js";
import type { VideoRooms } from "../consultations/video-rooms.js";
import type { Database } from "../db/client.js";
import type { Logger } from "../kit/logger.js";
import type { WebhookApplier } from "./webhook-queue.js";
import { envelopeSchema } from "./envelope.js";
import { InboxRepo } from "./inbox.repo.js";
import type { LiveStatus } from "../live/live-status.service.js";
import { peerSide } from "../consultations/presence.js";
import { ReconcileRepo } from "./reconcile.repo.js";

const RECONCILE_LOCK = 7_301_942_120;
const BATCH = 200;

export interface ReconcileReport {
  ran: boolean;
  retriedWebhooks: number;
  corrections: number;
  expired: number;
}

export interface ReconcilerDeps {
  database: Database;
  consultations: ConsultationRepo;
  live: LiveStatus;
  rooms: VideoRooms;
  commands: ConsultationCommands;
  webhooks: Pick<WebhookApplier, "retry">;
  /** Asked first when a room disagrees with 100ms: a replay of the missed webhooks beats inferring. */
  recovery?: { beforeInferring(roomId: string): Promise<"replaying" | "infer"> };
  policy: VideoPolicy;
  logger: Logger;
  now?: () => Date;
  /** Called after each run with the number of corrections (metrics). */
  onCorrections?: (count: number) => void;
}

export class Reconciler {
  readonly #repo: ReconcileRepo;
  readonly #now: () => Date;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<unknown> | null = null;

  constructor(private readonly deps: ReconcilerDeps) {
    this.#repo = new ReconcileRepo(deps.database.db);
    this.#now = deps.now ?? (() => new Date());
  }

  start(intervalSeconds: number): void {
    if (intervalSeconds <= 0) return;
    const tick = () => {
      this.#running ??= this.runOnce()
        .catch((error: Error) => this.deps.logger.warn({ errorClass: error.name }, "reconciliation failed; next round retries"))
        .finally(() => (this.#running = null));
    };
    tick();
    this.#timer = setInterval(tick, intervalSeconds * 1000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }

  async runOnce(): Promise<ReconcileReport> {
    const result = await this.deps.database.tryWithAdvisoryLock(RECONCILE_LOCK, async () => {
      const retriedWebhooks = await this.#retryWebhooks();
      const corrections = await this.#repairPresence();
      for (const id of await this.#repo.activeIds(BATCH)) await this.deps.live.update(id);
      const expired = await this.#expireNoShows();
      return { ran: true, retriedWebhooks, corrections, expired };
    });
    if (!result.ran) return { ran: false, retriedWebhooks: 0, corrections: 0, expired: 0 };
    this.deps.onCorrections?.(result.value.corrections);
    if (result.value.corrections > 0) this.deps.logger.info({ corrections: result.value.corrections }, "presence corrected from 100ms");
    return result.value;
  }

  /** Stored events not applied (a failure, a crash, another instance's): those this process has not queued. */
  async #retryWebhooks(): Promise<number> {
    const envelopes = (await new InboxRepo(this.deps.database.db).unprocessed(BATCH)).flatMap((row) => {
      const envelope = envelopeSchema.safeParse(row.payload);
      return envelope.success ? [envelope.data] : [];
    });
    return this.deps.webhooks.retry(envelopes);
  }

  async #repairPresence(): Promise<number> {
    let corrections = 0;
    for (const { id, roomId } of await this.#repo.withSomeoneOnline(BATCH)) {
      let active;
      try {
        active = await this.deps.rooms.activePeers(roomId);
      } catch {
        continue; // 100ms unavailable: try again next round
      }
      const activeIds = new Set(active.map((p) => p.peerId));
      const missedLeaves = (await this.#repo.openPeerIds(id)).filter((peerId) => !activeIds.has(peerId));
      const known = await this.#repo.knownPeerIds(id);
      const missedJoins = active.filter((p) => !known.has(p.peerId));
      if (missedLeaves.length + missedJoins.length === 0) continue;
      if ((await this.deps.recovery?.beforeInferring(roomId)) === "replaying") continue; // 100ms re-sends what we missed
      corrections += missedLeaves.length + missedJoins.length;
      const now = this.#now();
      // Read before the update's transaction (embedded PGlite has a single connection).
      const members = missedJoins.length > 0 ? await this.deps.consultations.findRoomMembers(roomId) : null;
      const sides = missedJoins.map((p) => (members ? peerSide(members, this.deps.policy.roles, p.userId, p.role) : null));
      await this.deps.live.update(id, async ({ peerFacts: facts }) => {
        for (const peerId of missedLeaves) {
          await facts.recordPeer({ peerId, consultationId: id, sessionId: null, userId: null, role: null, side: null, joinedAt: null, leftAt: now, leftInferred: true, leftReason: "not in the room (reconciled)", source: "reconcile" });
        }
        for (const [i, peer] of missedJoins.entries()) {
          await facts.recordPeer({
            peerId: peer.peerId,
            consultationId: id,
            sessionId: null,
            userId: peer.userId,
            role: peer.role,
            side: sides[i] ?? null,
            joinedAt: peer.joinedAt ?? now,
            joinedInferred: true,
            source: "reconcile",
          });
        }
      });
    }
    return corrections;
  }


  async #expireNoShows(): Promise<number> {
    let expired = 0;
    for (const consultation of await this.#repo.overduePending(this.deps.policy.joinGraceMinutes, this.#now(), BATCH)) {
      try {
        await this.deps.commands.expire(consultation);
        expired++;
      } catch (error) {
        this.deps.logger.warn({ errorClass: (error as Error).name }, "could not expire a no-show consultation; next round retries");
      }
    }
    return expired;
  }
}
