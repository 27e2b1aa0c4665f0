import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { jwtVerify } from "jose";

/**
 * A real HTTP stand-in for the 100ms REST API v2 (reference §2–§3): same paths under
 * /v2, snake_case JSON, error body `{ code, message, details }`, management-token checks,
 * and an in-memory room/peer model. Peers enter and leave only through `joinPeer` and
 * `#leave`, which is where webhooks (peer.join.success, ...) will hook in. Only the
 * endpoints HmsClient uses exist; anything else is a 404.
 */
export interface StandInPeer {
  id: string;
  userId: string;
  role: string;
  name: string;
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
  session: { id: string; createdAt: Date; peers: Map<string, StandInPeer> } | null;
}

export interface StandInCall {
  method: string;
  /** Path without query, e.g. "/v2/rooms". */
  path: string;
  body: unknown;
  status: number;
}

export interface HmsStandIn {
  /** e.g. "http://127.0.0.1:41234/v2" — pass as HmsClient's apiBaseUrl. */
  readonly baseUrl: string;
  readonly rooms: ReadonlyMap<string, Readonly<StandInRoom>>;
  readonly calls: readonly StandInCall[];
  /** What a client SDK join does; rejects for an unknown or disabled room. */
  joinPeer(roomId: string, input: { userId: string; role: string; name?: string }): Promise<StandInPeer>;
  /** What a client SDK leave does; rejects when the peer is not in the room. */
  leavePeer(roomId: string, peerId: string): Promise<void>;
  /** The next `count` requests answer `status` with an error body, touching nothing. */
  failNext(count: number, status?: number): void;
  /** The next `count` requests are processed, but their responses are held for `ms`. */
  delayNext(count: number, ms: number): void;
  /** The next request fails token validation (401) whatever its token. */
  rejectTokenOnce(): void;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
}

/** Leave reasons as peer.leave.success reports them (reference §4.4). */
type LeaveReason = "client request" | "peer kicked";

const ROOM_NAME = /^[a-zA-Z0-9.\-:_]+$/;
const REGIONS = ["eu", "in", "us", "auto"];
const hexId = (): string => randomBytes(12).toString("hex");

export async function startHmsStandIn(creds: { accessKey: string; appSecret: string }): Promise<HmsStandIn> {
  const standIn = new StandIn(creds);
  await standIn.listen();
  return standIn;
}

class StandIn implements HmsStandIn {
  readonly rooms = new Map<string, StandInRoom>();
  readonly calls: StandInCall[] = [];
  baseUrl = "";
  readonly #server = createServer((req, res) => void this.#serve(req, res));
  readonly #accessKey: string;
  readonly #key: Uint8Array;
  readonly #ids = { customer: hexId(), app: hexId(), template: hexId() };
  readonly #failures: number[] = [];
  readonly #delays: number[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #rejectToken = false;

  constructor(creds: { accessKey: string; appSecret: string }) {
    this.#accessKey = creds.accessKey;
    this.#key = new TextEncoder().encode(creds.appSecret);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.baseUrl = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v2`;
  }

  async joinPeer(roomId: string, input: { userId: string; role: string; name?: string }): Promise<StandInPeer> {
    const room = this.rooms.get(roomId);
    if (!room) throw new Error(`stand-in: room ${roomId} not found`);
    if (!room.enabled) throw new Error(`stand-in: room ${roomId} is disabled`);
    const { userId, role } = input;
    const peer = { id: randomUUID(), userId, role, name: input.name ?? userId, metadata: "", joinedAt: new Date() };
    room.session ??= { id: hexId(), createdAt: new Date(), peers: new Map() };
    room.session.peers.set(peer.id, peer);
    return peer;
  }

  async leavePeer(roomId: string, peerId: string): Promise<void> {
    const room = this.rooms.get(roomId);
    if (!room?.session?.peers.has(peerId)) throw new Error(`stand-in: peer ${peerId} is not in room ${roomId}`);
    this.#leave(room, peerId, "client request");
  }

  failNext(count: number, status = 500): void {
    this.#failures.push(...Array<number>(count).fill(status));
  }

  delayNext(count: number, ms: number): void {
    this.#delays.push(...Array<number>(count).fill(ms));
  }

  rejectTokenOnce(): void {
    this.#rejectToken = true;
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The one way a peer leaves; a session closes with its last peer. */
  #leave(room: StandInRoom, peerId: string, _reason: LeaveReason): void {
    room.session?.peers.delete(peerId);
    if (room.session?.peers.size === 0) room.session = null;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.on("error", () => {}); // the client may have given up (timeouts)
    const url = new URL(req.url ?? "/", "http://stand-in");
    const { body, valid } = await readBody(req);
    const reply = await this.#reply(req, url, body, valid).catch((): Reply => failure(500, "stand-in error"));
    this.calls.push({ method: req.method ?? "", path: url.pathname, body, status: reply.status });
    const delay = this.#delays.shift();
    if (delay) await this.#hold(delay);
    if (res.destroyed || !res.socket || res.socket.destroyed) return;
    res.writeHead(reply.status, { "content-type": "application/json" }).end(JSON.stringify(reply.body));
  }

  async #reply(req: IncomingMessage, url: URL, body: unknown, valid: boolean): Promise<Reply> {
    const injected = this.#failures.shift();
    if (injected !== undefined) return failure(injected, "injected failure");
    if (!(await this.#tokenIsValid(req.headers.authorization))) {
      return failure(401, "Token validation error", ["invalid management token"]);
    }
    if (!valid) return failure(400, "Invalid body param", ["body is not JSON"]);
    return this.#route(req.method ?? "", url, asRecord(body));
  }

  /** As 100ms: HS256 with the app secret, type "management", our access key, not expired. */
  async #tokenIsValid(header: string | undefined): Promise<boolean> {
    if (this.#rejectToken) return (this.#rejectToken = false);
    const token = /^Bearer (.+)$/.exec(header ?? "")?.[1];
    if (!token) return false;
    try {
      const { payload } = await jwtVerify(token, this.#key, { algorithms: ["HS256"], requiredClaims: ["exp"] });
      return payload.type === "management" && payload.access_key === this.#accessKey;
    } catch {
      return false;
    }
  }

  #route(method: string, url: URL, body: Record<string, unknown>): Reply {
    const [version, collection, id, action, ...rest] = url.pathname.split("/").slice(1);
    const route = `${method} ${collection ?? ""}${id ? "/:id" : ""}${action ? `/${action}` : ""}`;
    const room = id ? this.rooms.get(id) : undefined;
    if (version !== "v2" || rest.length > 0) return failure(404, "route not found");
    if (route === "POST rooms") return this.#upsertRoom(body);
    if (route === "GET rooms/:id" || route === "POST rooms/:id") {
      if (!room) return failure(404, "room not found");
      return method === "GET" ? ok(roomJson(room, this.#ids)) : this.#updateRoom(room, body);
    }
    if (!route.startsWith(`${method} active-rooms/:id`)) return failure(404, "route not found");
    if (!room?.session) return failure(404, "session not found");
    if (route === "GET active-rooms/:id/peers") return ok({ peers: peersJson(room, url.searchParams) });
    if (route === "POST active-rooms/:id/remove-peers") return this.#removePeers(room, body);
    if (route === "POST active-rooms/:id/end-room") return this.#endRoom(room, body);
    return failure(404, "route not found");
  }

  /** Upsert by case-insensitive name (reference §3.3). */
  #upsertRoom(body: Record<string, unknown>): Reply {
    const problem = roomBodyProblem(body);
    if (problem) return failure(400, "Invalid body param", [problem]);
    const name = typeof body.name === "string" ? body.name : randomUUID();
    const existing = [...this.rooms.values()].find((room) => room.name.toLowerCase() === name.toLowerCase());
    const room = existing ?? this.#newRoom(name);
    if (typeof body.template_id === "string") room.templateId = body.template_id;
    return this.#updateRoom(room, body);
  }

  #newRoom(name: string): StandInRoom {
    const now = new Date();
    const room = { id: hexId(), name, description: "", enabled: true, templateId: this.#ids.template, region: "in",
      size: null, maxDurationSeconds: null, createdAt: now, updatedAt: now, session: null };
    this.rooms.set(room.id, room);
    return room;
  }

  #updateRoom(room: StandInRoom, body: Record<string, unknown>): Reply {
    const problem = roomBodyProblem(body);
    if (problem) return failure(400, "Invalid body param", [problem]);
    if (typeof body.description === "string") room.description = body.description;
    if (typeof body.region === "string") room.region = body.region;
    if (typeof body.size === "number") room.size = body.size;
    if (typeof body.max_duration_seconds === "number") room.maxDurationSeconds = body.max_duration_seconds;
    if (typeof body.enabled === "boolean") room.enabled = body.enabled;
    room.updatedAt = new Date();
    return ok(roomJson(room, this.#ids));
  }

  /** `peer_id` wins over `role`; no match is a 404 here (100ms's answer is not documented). */
  #removePeers(room: StandInRoom, body: Record<string, unknown>): Reply {
    const { peer_id: peerId, role } = body;
    if (typeof peerId !== "string" && typeof role !== "string") {
      return failure(400, "Invalid body param", ["peer_id or role is required"]);
    }
    const peers = [...(room.session?.peers.values() ?? [])];
    const matches = peers.filter((peer) => (typeof peerId === "string" ? peer.id === peerId : peer.role === role));
    if (matches.length === 0) return failure(404, "peer not found");
    for (const peer of matches) this.#leave(room, peer.id, "peer kicked");
    return ok({ message: "peer remove request submitted" });
  }

  #endRoom(room: StandInRoom, body: Record<string, unknown>): Reply {
    if (body.lock === true) room.enabled = false;
    for (const peerId of [...(room.session?.peers.keys() ?? [])]) this.#leave(room, peerId, "peer kicked");
    return ok({ message: "session is ending" });
  }

  #hold(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }
}

/** The documented validation errors of create/update room (reference §3.3). */
function roomBodyProblem(body: Record<string, unknown>): string | null {
  const { name, region, size, max_duration_seconds: maxDuration } = body;
  if ("template" in body) return "Invalid body param: template. Use template_id";
  if (name !== undefined && (typeof name !== "string" || !ROOM_NAME.test(name))) return "Invalid body param: name";
  if (region !== undefined && !REGIONS.includes(String(region))) return "region not supported";
  if (size !== undefined && !isIntIn(size, 0, 2500)) return "Invalid body param: room size greater than 2500";
  if (maxDuration !== undefined && !isIntIn(maxDuration, 120, 43200)) return "Invalid body param: max_duration_seconds";
  return null;
}

function roomJson(room: StandInRoom, ids: { customer: string; app: string }): Record<string, unknown> {
  return {
    id: room.id, name: room.name, enabled: room.enabled, description: room.description,
    customer_id: ids.customer, app_id: ids.app, recording_info: { enabled: false },
    template_id: room.templateId, region: room.region,
    ...(room.size === null ? {} : { size: room.size }),
    ...(room.maxDurationSeconds === null ? {} : { max_duration_seconds: room.maxDurationSeconds }),
    created_at: room.createdAt.toISOString(), updated_at: room.updatedAt.toISOString(),
  };
}

/** `{ "<peer_id>": peer }`, filtered by the documented `user_id`/`role` query. */
function peersJson(room: StandInRoom, query: URLSearchParams): Record<string, unknown> {
  const peers = [...(room.session?.peers.values() ?? [])].filter(
    (peer) => (!query.has("user_id") || peer.userId === query.get("user_id")) &&
      (!query.has("role") || peer.role === query.get("role")),
  );
  return Object.fromEntries(peers.map((peer) => [peer.id, {
    id: peer.id, name: peer.name, user_id: peer.userId, metadata: peer.metadata, role: peer.role,
    joined_at: peer.joinedAt.toISOString(),
  }]));
}

async function readBody(req: IncomingMessage): Promise<{ body: unknown; valid: boolean }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return { body: undefined, valid: true };
  try {
    return { body: JSON.parse(text) as unknown, valid: true };
  } catch {
    return { body: text, valid: false };
  }
}

const ok = (body: unknown): Reply => ({ status: 200, body });
const failure = (code: number, message: string, details: string[] = []): Reply => ({
  status: code,
  body: { code, message, details },
});
const isIntIn = (value: unknown, min: number, max: number): boolean =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
