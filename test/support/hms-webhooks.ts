import { randomUUID } from "node:crypto";

/**
 * Pure builders of 100ms webhook bodies (reference §4.3 envelope, §4.4 catalogue, §4.5
 * samples), one per event type the backend acts on. Builders take plain values and Dates and
 * return the JSON body exactly as 100ms would POST it; nothing here does I/O or reads a clock.
 */

export type HmsLeaveReason =
  | "client request"
  | "peer kicked"
  | "websocket closed"
  | "ice connection state closed"
  | "server removed peer";

/** The Go zero time 100ms sends for "not set" (e.g. `joined_at` of peer.join.failure). */
export const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

export interface HmsSessionOpenData {
  room_id: string;
  room_name: string;
  session_id: string;
  template_id: string;
  session_started_at: string;
}

export interface HmsSessionCloseData extends HmsSessionOpenData {
  /** Whole seconds (rounded, as the §4.5 sample: 1797.884 s → 1798). */
  session_duration: number;
  session_stopped_at: string;
}

/** The §4.4 "common peer fields". */
export interface HmsPeerData {
  room_id: string;
  room_name: string;
  session_id: string;
  template_id: string;
  peer_id: string;
  user_id: string;
  user_name: string;
  user_data: string;
  role: string;
  joined_at: string;
  session_started_at: string;
  type: "regular" | "sip";
}

export interface HmsPeerLeaveData extends HmsPeerData {
  left_at: string;
  /** Whole seconds in the room (truncated, as the §4.5 sample: 1230.547 s → 1230). */
  duration: number;
  reason: HmsLeaveReason;
  /** The remove-peers/end-room `reason`; "" for other leaves. */
  message: string;
}

/** No session_id / session_started_at: the peer never made it into a session. */
export interface HmsPeerJoinFailureData extends Omit<HmsPeerData, "session_id" | "session_started_at"> {
  joined_at: typeof GO_ZERO_TIME;
  error_message: string;
}

export interface HmsRoomEndData {
  room_id: string;
  room_name: string;
  session_id: string;
  template_id: string;
  /** The ending peer; "" for each of the four when the REST API ended the room. */
  peer_id: string;
  user_id: string;
  user_name: string;
  role: string;
  lock_room: boolean;
  reason: string;
  source: "peer" | "api";
  session_started_at: string;
}

export interface HmsRoleChangeData extends Omit<HmsPeerData, "type"> {
  previous_role: string;
  role_changed_at: string;
  /** Absent when the role was changed through the REST API. */
  role_change_requested_by?: string;
}

export interface HmsWebhookDataByType {
  "session.open.success": HmsSessionOpenData;
  "session.close.success": HmsSessionCloseData;
  "peer.join.success": HmsPeerData;
  "peer.leave.success": HmsPeerLeaveData;
  "peer.join.failure": HmsPeerJoinFailureData;
  "room.end.success": HmsRoomEndData;
  "role.change.success": HmsRoleChangeData;
}

export type HmsWebhookType = keyof HmsWebhookDataByType;

/** §4.3. `timestamp` is second precision; times inside `data` carry nanoseconds. */
export interface HmsWebhookEnvelope<T extends HmsWebhookType = HmsWebhookType> {
  version: "2.0";
  /** UUID of the event: the idempotency key (retries and duplicates reuse it). */
  id: string;
  app_id: string;
  account_id: string;
  timestamp: string;
  type: T;
  data: HmsWebhookDataByType[T];
}

/** Any one envelope, narrowed by `type`. */
export type HmsWebhook = { [T in HmsWebhookType]: HmsWebhookEnvelope<T> }[HmsWebhookType];

/** Workspace identity stamped on every envelope; `id` overrides the random event UUID. */
export interface HmsWebhookContext {
  appId: string;
  accountId: string;
  id?: string;
}

export interface HmsSessionInfo {
  roomId: string;
  roomName: string;
  templateId: string;
  sessionId: string;
  sessionStartedAt: Date;
}

export interface HmsPeerInfo {
  peerId: string;
  userId: string;
  userName: string;
  userData: string;
  role: string;
  joinedAt: Date;
  type?: "regular" | "sip";
}

/**
 * RFC 3339 UTC with nine fractional digits, like 100ms's Go timestamps. A Date has only
 * milliseconds, so the six sub-millisecond digits are a deterministic function of the instant:
 * equal Dates format equally and `new Date(hmsTime(d))` gives back `d` exactly.
 */
export function hmsTime(date: Date): string {
  const ms = date.getTime();
  const subMillis = ((Math.abs(ms) % 1_000_003) * 7_919) % 1_000_000;
  return `${date.toISOString().slice(0, -1)}${String(subMillis).padStart(6, "0")}Z`;
}

/** The envelope `timestamp`: RFC 3339 UTC, second precision (fraction truncated). */
export function hmsEnvelopeTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export function sessionOpenSuccess(ctx: HmsWebhookContext, session: HmsSessionInfo): HmsWebhookEnvelope<"session.open.success"> {
  return envelope(ctx, "session.open.success", session.sessionStartedAt, sessionData(session));
}

export function sessionCloseSuccess(
  ctx: HmsWebhookContext,
  session: HmsSessionInfo,
  stoppedAt: Date,
): HmsWebhookEnvelope<"session.close.success"> {
  const session_duration = Math.round((stoppedAt.getTime() - session.sessionStartedAt.getTime()) / 1000);
  const data = { ...sessionData(session), session_duration, session_stopped_at: hmsTime(stoppedAt) };
  return envelope(ctx, "session.close.success", stoppedAt, data);
}

export function peerJoinSuccess(
  ctx: HmsWebhookContext,
  session: HmsSessionInfo,
  peer: HmsPeerInfo,
): HmsWebhookEnvelope<"peer.join.success"> {
  return envelope(ctx, "peer.join.success", peer.joinedAt, peerData(session, peer));
}

export function peerLeaveSuccess(
  ctx: HmsWebhookContext,
  session: HmsSessionInfo,
  peer: HmsPeerInfo,
  leave: { leftAt: Date; reason: HmsLeaveReason; message?: string },
): HmsWebhookEnvelope<"peer.leave.success"> {
  const duration = Math.floor((leave.leftAt.getTime() - peer.joinedAt.getTime()) / 1000);
  const data = { ...peerData(session, peer), left_at: hmsTime(leave.leftAt), duration, reason: leave.reason,
    message: leave.message ?? "" };
  return envelope(ctx, "peer.leave.success", leave.leftAt, data);
}

/** A join that never completed: Go zero `joined_at`, no session fields (§4.4, §4.5). */
export function peerJoinFailure(
  ctx: HmsWebhookContext,
  room: Omit<HmsSessionInfo, "sessionId" | "sessionStartedAt">,
  peer: Omit<HmsPeerInfo, "joinedAt">,
  failure: { at: Date; errorMessage: string },
): HmsWebhookEnvelope<"peer.join.failure"> {
  const data = { room_id: room.roomId, room_name: room.roomName, template_id: room.templateId, ...peerIdentity(peer),
    joined_at: GO_ZERO_TIME, error_message: failure.errorMessage, type: peer.type ?? "regular" } as const;
  return envelope(ctx, "peer.join.failure", failure.at, data);
}

/** `by: null` = ended through the REST API (the peer fields are then empty strings). */
export function roomEndSuccess(
  ctx: HmsWebhookContext,
  session: HmsSessionInfo,
  end: { at: Date; by: Omit<HmsPeerInfo, "joinedAt" | "userData"> | null; lockRoom: boolean; reason: string },
): HmsWebhookEnvelope<"room.end.success"> {
  const by = end.by;
  const data = { room_id: session.roomId, room_name: session.roomName, session_id: session.sessionId,
    template_id: session.templateId, peer_id: by?.peerId ?? "", user_id: by?.userId ?? "",
    user_name: by?.userName ?? "", role: by?.role ?? "", lock_room: end.lockRoom, reason: end.reason,
    source: by ? "peer" : "api", session_started_at: hmsTime(session.sessionStartedAt) } as const;
  return envelope(ctx, "room.end.success", end.at, data);
}

/** `peer.role` is the new role; `requestedBy` is left out for REST-initiated changes. */
export function roleChangeSuccess(
  ctx: HmsWebhookContext,
  session: HmsSessionInfo,
  peer: HmsPeerInfo,
  change: { at: Date; previousRole: string; requestedBy?: string },
): HmsWebhookEnvelope<"role.change.success"> {
  const { type: _type, ...common } = peerData(session, peer);
  const data: HmsRoleChangeData = { ...common, previous_role: change.previousRole, role_changed_at: hmsTime(change.at),
    ...(change.requestedBy === undefined ? {} : { role_change_requested_by: change.requestedBy }) };
  return envelope(ctx, "role.change.success", change.at, data);
}

function envelope<T extends HmsWebhookType>(
  ctx: HmsWebhookContext,
  type: T,
  at: Date,
  data: HmsWebhookDataByType[T],
): HmsWebhookEnvelope<T> {
  return { version: "2.0", id: ctx.id ?? randomUUID(), app_id: ctx.appId, account_id: ctx.accountId,
    timestamp: hmsEnvelopeTime(at), type, data };
}

function sessionData(session: HmsSessionInfo): HmsSessionOpenData {
  return { room_id: session.roomId, room_name: session.roomName, session_id: session.sessionId,
    template_id: session.templateId, session_started_at: hmsTime(session.sessionStartedAt) };
}

function peerIdentity(peer: Omit<HmsPeerInfo, "joinedAt">) {
  return { peer_id: peer.peerId, user_id: peer.userId, user_name: peer.userName, user_data: peer.userData,
    role: peer.role };
}

function peerData(session: HmsSessionInfo, peer: HmsPeerInfo): HmsPeerData {
  return { room_id: session.roomId, room_name: session.roomName, session_id: session.sessionId,
    template_id: session.templateId, ...peerIdentity(peer), joined_at: hmsTime(peer.joinedAt),
    session_started_at: hmsTime(session.sessionStartedAt), type: peer.type ?? "regular" };
}
