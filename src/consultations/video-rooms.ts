/**
 * The consultation's view of 100ms: rooms named after consultations, tokens for one side,
 * end/disable. Every 100ms failure becomes UPSTREAM_UNAVAILABLE here, so the services above
 * never see HTTP; and no patient data is ever sent to 100ms (names and descriptions carry
 * only the consultation id).
 */
import type { HmsConfig, VideoPolicy } from "../config/config.js";
import { AppError } from "../kit/errors.js";
import { HmsApiError, HmsClient, mintAppToken, type HmsCall, type HmsRoom } from "../hms/index.js";
import type { Logger } from "../kit/logger.js";
import { roomMaxDurationSeconds } from "./join-window.js";

export type Side = "doctor" | "patient";

export class VideoRooms {
  readonly #client: HmsClient | null;

  constructor(
    private readonly hms: HmsConfig | null,
    private readonly policy: VideoPolicy,
    private readonly logger: Logger,
    client?: HmsClient,
    onCall?: (call: HmsCall) => void,
  ) {
    this.#client =
      client ??
      (hms
        ? new HmsClient({
            accessKey: hms.accessKey,
            appSecret: hms.appSecret,
            apiBaseUrl: hms.apiBaseUrl,
            timeoutMs: hms.timeoutMs,
            onCall: (call) => {
              logger.debug({ hms: call }, "100ms call");
              onCall?.(call);
            },
          })
        : null);
  }

  get configured(): boolean {
    return this.#client !== null;
  }

  /** The same 100ms client, for the webhook delivery log and replay (webhook recovery); null when not configured. */
  get client(): HmsClient | null {
    return this.#client;
  }

  /** Creates (or, by name, finds again) the consultation's room: idempotent. */
  createRoom(consultationId: string, durationMinutes: number): Promise<HmsRoom> {
    return this.#call("create room", (client, hms) =>
      client.createRoom({
        name: roomName(consultationId),
        description: "Video consultation",
        templateId: hms.templateId,
        ...(hms.region ? { region: hms.region } : {}),
        size: 2,
        maxDurationSeconds: roomMaxDurationSeconds(durationMinutes, this.policy.roomDurationSlackMinutes),
      }),
    );
  }

  /** A 100ms app token for one side; `user_id` is the caller's users.id. Signed locally. */
  async mintJoinToken(input: { roomId: string; userId: string; side: Side; expiresAt: Date }) {
    const hms = this.#require().hms;
    return mintAppToken(
      { accessKey: hms.accessKey, appSecret: hms.appSecret },
      { roomId: input.roomId, userId: input.userId, role: this.policy.roles[input.side], expiresAt: input.expiresAt },
    );
  }

  /**
   * With `maxPeerCount: 1` per role, a connection the app lost without leaving holds the
   * side's place for ~60 s (100ms docs: templates and roles, peer limits) and would refuse the rejoin: remove it first.
   * Best effort: a failure here must not stop the side from getting its token.
   */
  async removeStaleConnections(roomId: string, userId: string): Promise<void> {
    const client = this.#client;
    if (!client) return;
    try {
      const peers = await client.listActivePeers(roomId, { userId });
      for (const peer of peers) {
        await client.removePeers(roomId, { peerId: peer.peerId, reason: "Rejoined from another connection" });
      }
    } catch (error) {
      this.logger.warn({ errorClass: (error as Error).name, status: (error as HmsApiError).status }, "could not clear stale 100ms peers");
    }
  }

  /** Who 100ms says is in the room now (reconciliation). */
  activePeers(roomId: string) {
    return this.#call("list peers", (client) => client.listActivePeers(roomId));
  }

  /** Ends the active session for both sides and locks the room against rejoining. */
  endAndLock(roomId: string, reason = "The consultation has ended"): Promise<void> {
    return this.#call("end room", async (client) => {
      const { ended } = await client.endActiveRoom(roomId, { reason, lock: true });
      // No active session: nothing was locked, so disable the room explicitly.
      if (!ended) await client.setRoomEnabled(roomId, false);
    });
  }

  disable(roomId: string): Promise<void> {
    return this.#call("disable room", async (client) => {
      await client.setRoomEnabled(roomId, false);
    });
  }

  #require(): { client: HmsClient; hms: HmsConfig } {
    if (!this.#client || !this.hms) {
      throw new AppError("UPSTREAM_UNAVAILABLE", "The video service (100ms) is not configured on this server");
    }
    return { client: this.#client, hms: this.hms };
  }

  async #call<T>(what: string, fn: (client: HmsClient, hms: HmsConfig) => Promise<T>): Promise<T> {
    const { client, hms } = this.#require();
    try {
      return await fn(client, hms);
    } catch (error) {
      if (!(error instanceof HmsApiError)) throw error;
      this.logger.warn({ endpoint: error.endpoint, status: error.status, what }, "100ms call failed");
      throw new AppError("UPSTREAM_UNAVAILABLE", "The video service (100ms) did not answer; try again");
    }
  }
}

/** Room names carry only the consultation id: no patient data reaches 100ms. */
export function roomName(consultationId: string): string {
  return `consultation-${consultationId}`;
}
