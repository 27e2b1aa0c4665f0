import { randomBytes, randomUUID } from "node:crypto";
import {
  peerJoinFailure,
  peerJoinSuccess,
  peerLeaveSuccess,
  roleChangeSuccess,
  roomEndSuccess,
  sessionCloseSuccess,
  sessionOpenSuccess,
} from "./hms-webhooks.js";
import type { HmsLeaveReason, HmsPeerInfo, HmsSessionInfo, HmsWebhook, HmsWebhookContext } from "./hms-webhooks.js";

/**
 * The stand-in's in-memory room/peer model. Every change a webhook reports goes through
 * here and hands the resulting events, in 100ms's order, to `emit` (which decides whether
 * and how they are delivered). The active-peers API reads the same model, so when a test
 * drops webhooks the API still tells the truth.
 */
export interface StandInPeer {
  id: string;
  userId: string;
  role: string;
  name: string;
  /** The peer's metadata; reported as `user_data` in webhooks. */
  metadata: string;
  joinedAt: Date;
}

export interface StandInRoom {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  templateId: string;
  region: string;
  size: number | null;
  maxDurationSeconds: number | null;
  createdAt: Date;
  updatedAt: Date;
  /** The active session, if any: opens on the first join, closes when the last peer leaves. */
  session: StandInSession | null;
}

export interface StandInSession {
  id: string;
  createdAt: Date;
  peers: Map<string, StandInPeer>;
}

export interface PeerInput {
  userId: string;
  role: string;
  /** Defaults to userId. */
  name?: string;
  /** Peer metadata (`user_data` in webhooks); default "". */
  userData?: string;
}

/** 100ms's delay before a killed app's peer is dropped (reference §4.4, issue #869). */
export const KILLED_PEER_LEAVE_MS = 60_000;

const ROOM_NAME = /^[a-zA-Z0-9.\-:_]+$/;
const REGIONS = ["eu", "in", "us", "auto"];

export const hexId = (): string => randomBytes(12).toString("hex");

export class StandInModel {
  readonly rooms = new Map<string, StandInRoom>();
  readonly ids = { customer: hexId(), app: hexId(), template: hexId() };
  /** Source of every model time (joins, leaves, sessions, rooms) not given explicitly. */
  clock: () => Date = () => new Date();
  /** Pending killed-peer leaves: their timers and what each does when it fires. */
  readonly #timers = new Map<NodeJS.Timeout, () => void>();
  readonly #emit: (event: HmsWebhook) => void;

  constructor(emit: (event: HmsWebhook) => void) {
    this.#emit = emit;
  }

  newRoom(name: string): StandInRoom {
    const now = this.clock();
    const room = { id: hexId(), name, description: "", enabled: true, templateId: this.ids.template, region: "in",
      size: null, maxDurationSeconds: null, createdAt: now, updatedAt: now, session: null };
    this.rooms.set(room.id, room);
    return room;
  }

  /** A client SDK join: the first peer opens a session (session.open, then peer.join). */
  join(roomId: string, input: PeerInput, at = this.clock()): StandInPeer {
    const room = this.#joinableRoom(roomId);
    const peer = { id: randomUUID(), userId: input.userId, role: input.role, name: input.name ?? input.userId,
      metadata: input.userData ?? "", joinedAt: at };
    if (!room.session) {
      room.session = { id: hexId(), createdAt: at, peers: new Map() };
      this.#emit(sessionOpenSuccess(this.#ctx(), sessionInfo(room, room.session)));
    }
    room.session.peers.set(peer.id, peer);
    this.#emit(peerJoinSuccess(this.#ctx(), sessionInfo(room, room.session), peerInfo(peer)));
    return peer;
  }

  /** A join 100ms refused: peer.join.failure only, the model is unchanged. */
  failJoin(roomId: string, input: PeerInput & { errorMessage: string }, at = this.clock()): void {
    const room = this.#room(roomId);
    const peer = { peerId: randomUUID(), userId: input.userId, userName: input.name ?? input.userId,
      userData: input.userData ?? "", role: input.role };
    const roomInfo = { roomId: room.id, roomName: room.name, templateId: room.templateId };
    this.#emit(peerJoinFailure(this.#ctx(), roomInfo, peer, { at, errorMessage: input.errorMessage }));
  }

  /** A client SDK leave: peer.leave.success with reason "client request". */
  leave(roomId: string, peerId: string, at = this.clock()): void {
    this.#leave(this.#roomWithPeer(roomId, peerId), peerId, { reason: "client request", at });
  }

  /**
   * The app is killed without leaving: the peer stays connected (and listed by active-peers)
   * for `leaveAfterMs`, then leaves with "websocket closed" at the clock's time. A no-op if the
   * peer has left by then (e.g. the room was ended).
   */
  kill(roomId: string, peerId: string, leaveAfterMs = KILLED_PEER_LEAVE_MS): void {
    const room = this.#roomWithPeer(roomId, peerId);
    const leave = () => {
      this.#timers.delete(timer);
      if (room.session?.peers.has(peerId)) this.#leave(room, peerId, { reason: "websocket closed", at: this.clock() });
    };
    const timer = setTimeout(leave, leaveAfterMs);
    this.#timers.set(timer, leave);
  }

  /** The pending killed-peer leaves happen now, as if their wait had passed (tests step it). */
  expireKills(): void {
    for (const [timer, leave] of [...this.#timers]) (clearTimeout(timer), leave());
  }

  /** A role change through the REST API (so no role_change_requested_by). */
  changeRole(roomId: string, peerId: string, role: string, at = this.clock()): void {
    const room = this.#roomWithPeer(roomId, peerId);
    const session = room.session!;
    const peer = session.peers.get(peerId)!;
    const previousRole = peer.role;
    peer.role = role;
    this.#emit(roleChangeSuccess(this.#ctx(), sessionInfo(room, session), peerInfo(peer), { at, previousRole }));
  }

  /** remove-peers: each leaves with "peer kicked" and the request's reason as `message`. */
  kick(room: StandInRoom, peerIds: string[], message: string, at = this.clock()): void {
    for (const peerId of peerIds) this.#leave(room, peerId, { reason: "peer kicked", message, at });
  }

  /**
   * end-room from the REST API: room.end.success (source "api"), then every peer leaves
   * ("peer kicked", message = the end reason), then session.close.success. `lock` disables the room.
   */
  endRoom(room: StandInRoom, end: { reason: string; lock: boolean }, at = this.clock()): void {
    if (end.lock) room.enabled = false;
    if (!room.session) return;
    const info = sessionInfo(room, room.session);
    this.#emit(roomEndSuccess(this.#ctx(), info, { at, by: null, lockRoom: end.lock, reason: end.reason }));
    this.kick(room, [...room.session.peers.keys()], end.reason, at);
  }

  /** Cancels pending killed-peer leaves. */
  close(): void {
    for (const timer of this.#timers.keys()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** The one way a peer leaves; a session closes with its last peer. */
  #leave(room: StandInRoom, peerId: string, leave: { reason: HmsLeaveReason; message?: string; at: Date }): void {
    const session = room.session;
    const peer = session?.peers.get(peerId);
    if (!session || !peer) return;
    session.peers.delete(peerId);
    this.#emit(peerLeaveSuccess(this.#ctx(), sessionInfo(room, session), peerInfo(peer),
      { leftAt: leave.at, reason: leave.reason, message: leave.message ?? "" }));
    if (session.peers.size > 0) return;
    room.session = null;
    this.#emit(sessionCloseSuccess(this.#ctx(), sessionInfo(room, session), leave.at));
  }

  #ctx(): HmsWebhookContext {
    return { appId: this.ids.app, accountId: this.ids.customer };
  }

  #room(roomId: string): StandInRoom {
    const room = this.rooms.get(roomId);
    if (!room) throw new Error(`stand-in: room ${roomId} not found`);
    return room;
  }

  #joinableRoom(roomId: string): StandInRoom {
    const room = this.#room(roomId);
    if (!room.enabled) throw new Error(`stand-in: room ${roomId} is disabled`);
    return room;
  }

  #roomWithPeer(roomId: string, peerId: string): StandInRoom {
    const room = this.rooms.get(roomId);
    if (!room?.session?.peers.has(peerId)) throw new Error(`stand-in: peer ${peerId} is not in room ${roomId}`);
    return room;
  }
}

function sessionInfo(room: StandInRoom, session: StandInSession): HmsSessionInfo {
  return { roomId: room.id, roomName: room.name, templateId: room.templateId, sessionId: session.id,
    sessionStartedAt: session.createdAt };
}

function peerInfo(peer: StandInPeer): HmsPeerInfo {
  return { peerId: peer.id, userId: peer.userId, userName: peer.name, userData: peer.metadata, role: peer.role,
    joinedAt: peer.joinedAt };
}

/** REST room object (reference §3.3). */
export function roomJson(room: StandInRoom, ids: { customer: string; app: string }): Record<string, unknown> {
  return {
    id: room.id, name: room.name, enabled: room.enabled, description: room.description,
    customer_id: ids.customer, app_id: ids.app, recording_info: { enabled: false },
    template_id: room.templateId, region: room.region,
    ...(room.size === null ? {} : { size: room.size }),
    ...(room.maxDurationSeconds === null ? {} : { max_duration_seconds: room.maxDurationSeconds }),
    created_at: room.createdAt.toISOString(), updated_at: room.updatedAt.toISOString(),
  };
}

/** `{ "<peer_id>": peer }`, filtered by the documented `user_id`/`role` query (reference §3.4). */
export function peersJson(room: StandInRoom, query: URLSearchParams): Record<string, unknown> {
  const peers = [...(room.session?.peers.values() ?? [])].filter(
    (peer) => (!query.has("user_id") || peer.userId === query.get("user_id")) &&
      (!query.has("role") || peer.role === query.get("role")),
  );
  return Object.fromEntries(peers.map((peer) => [peer.id, {
    id: peer.id, name: peer.name, user_id: peer.userId, metadata: peer.metadata, role: peer.role,
    joined_at: peer.joinedAt.toISOString(),
  }]));
}

/** The documented validation errors of create/update room (reference §3.3). */
export function roomBodyProblem(body: Record<string, unknown>): string | null {
  const { name, region, size, max_duration_seconds: maxDuration } = body;
  if ("template" in body) return "Invalid body param: template. Use template_id";
  if (name !== undefined && (typeof name !== "string" || !ROOM_NAME.test(name))) return "Invalid body param: name";
  if (region !== undefined && !REGIONS.includes(String(region))) return "region not supported";
  if (size !== undefined && !isIntIn(size, 0, 2500)) return "Invalid body param: room size greater than 2500";
  if (maxDuration !== undefined && !isIntIn(maxDuration, 120, 43200)) return "Invalid body param: max_duration_seconds";
  return null;
}

const isIntIn = (value: unknown, min: number, max: number): boolean =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
