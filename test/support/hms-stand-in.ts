import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { jwtVerify } from "jose";
import { StandInModel, peersJson, roomBodyProblem, roomJson } from "./hms-stand-in-model.js";
import type { PeerInput, StandInPeer, StandInRoom } from "./hms-stand-in-model.js";
import { WebhookSender } from "./hms-webhook-sender.js";
import { DeliveryLog } from "./hms-delivery-log.js";
import type { ReleaseOrder, WebhookChaos, WebhookDelivery, WebhookTarget } from "./hms-webhook-sender.js";
import type { HmsWebhook } from "./hms-webhooks.js";
import type { LoggedDelivery } from "./hms-delivery-log.js";

export type { PeerInput, StandInPeer, StandInRoom, StandInSession } from "./hms-stand-in-model.js";
export type { ReleaseOrder, WebhookChaos, WebhookDelivery, WebhookTarget } from "./hms-webhook-sender.js";
export type { LoggedDelivery } from "./hms-delivery-log.js";

/**
 * A real HTTP stand-in for the 100ms REST API v2 (reference §2–§3): same paths under
 * /v2, snake_case JSON, error body `{ code, message, details }`, management-token checks,
 * and an in-memory room/peer model (hms-stand-in-model.ts) that emits webhooks (§4) once
 * `configureWebhooks` is called, and the webhook delivery log and replay (hms-delivery-log.ts).
 * Only the endpoints HmsClient uses exist; anything else is a 404.
 */
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
  /** Every webhook attempt, in the order attempts started. */
  readonly webhookDeliveries: readonly WebhookDelivery[];
  /**
   * What a client SDK join does; rejects for an unknown or disabled room. Webhooks:
   * session.open.success (first peer only), then peer.join.success. `at` defaults to the clock.
   */
  joinPeer(roomId: string, input: PeerInput, options?: { at?: Date }): Promise<StandInPeer>;
  /** What a client SDK leave does (reason "client request"); rejects when the peer is not in the room. */
  leavePeer(roomId: string, peerId: string, options?: { at?: Date }): Promise<void>;
  /**
   * The app is killed: the peer stays (active-peers lists it) for `leaveAfterMs` (default
   * 60 000, as 100ms), then leaves with reason "websocket closed".
   */
  killPeer(roomId: string, peerId: string, options?: { leaveAfterMs?: number }): Promise<void>;
  /** Test control: every killed peer still waiting out its leaveAfterMs leaves now. */
  expireKills(): void;
  /** A REST role change: role.change.success without role_change_requested_by. */
  changeRole(roomId: string, peerId: string, role: string, options?: { at?: Date }): Promise<void>;
  /** A refused join: peer.join.failure; nothing else changes. */
  failJoin(roomId: string, input: PeerInput & { errorMessage: string }, options?: { at?: Date }): Promise<void>;
  /** Source of all model times not passed explicitly (default: the real time). */
  setClock(clock: () => Date): void;
  /** Where to POST webhooks; until called, no webhook is produced or sent. */
  configureWebhooks(target: WebhookTarget): void;
  /** Test chaos (merged over earlier calls): random duplicates, shuffle window, latency, PRNG seed. */
  webhookOptions(options: WebhookChaos): void;
  /** Capture produced webhooks instead of sending them, until releaseWebhooks. */
  holdWebhooks(): void;
  /** Send everything held; `duplicates` sends the whole ordered sequence a second time. */
  releaseWebhooks(options?: { order?: ReleaseOrder; duplicates?: boolean }): void;
  /** The next `count` webhooks are lost entirely (the model, and so active-peers, still change). */
  dropNextWebhooks(count: number): void;
  /** Every distinct event produced since configureWebhooks, in production order (dropped ones too). */
  sentWebhooks(): HmsWebhook[];
  /** Resolves once no webhook is queued, in flight or awaiting a retry (held ones excepted). */
  flushWebhooks(): Promise<void>;
  /**
   * The next `count` requests (only those whose path starts with `path`, when given) answer
   * `status` with an error body, touching nothing. A 429 says "retry after 45 seconds", as 100ms.
   */
  failNext(count: number, status?: number, options?: { path?: string }): void;
  /** Deliveries that ended (200, or failed after the last retry), as the delivery log lists them. */
  readonly deliveryLog: readonly LoggedDelivery[];
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

export async function startHmsStandIn(creds: { accessKey: string; appSecret: string }): Promise<HmsStandIn> {
  const standIn = new StandIn(creds);
  await standIn.listen();
  return standIn;
}

class StandIn implements HmsStandIn {
  readonly calls: StandInCall[] = [];
  baseUrl = "";
  readonly #webhooks = new WebhookSender();
  readonly #log = new DeliveryLog((event) => this.#webhooks.replay(event));
  readonly #model = new StandInModel((event) => this.#webhooks.emit(event));
  readonly rooms = this.#model.rooms;
  readonly #server = createServer((req, res) => void this.#serve(req, res));
  readonly #accessKey: string;
  readonly #key: Uint8Array;
  readonly #ids = this.#model.ids;
  readonly #failures: Array<{ status: number; path: string }> = [];
  readonly #delays: number[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #rejectToken = false;

  constructor(creds: { accessKey: string; appSecret: string }) {
    this.#webhooks.onDelivered = (event, status) => this.#log.record(event, status);
    this.#accessKey = creds.accessKey;
    this.#key = new TextEncoder().encode(creds.appSecret);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.baseUrl = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v2`;
  }

  get webhookDeliveries(): readonly WebhookDelivery[] {
    return this.#webhooks.deliveries;
  }

  async joinPeer(roomId: string, input: PeerInput, options: { at?: Date } = {}): Promise<StandInPeer> {
    return this.#model.join(roomId, input, options.at);
  }

  async leavePeer(roomId: string, peerId: string, options: { at?: Date } = {}): Promise<void> {
    this.#model.leave(roomId, peerId, options.at);
  }

  async killPeer(roomId: string, peerId: string, options: { leaveAfterMs?: number } = {}): Promise<void> {
    this.#model.kill(roomId, peerId, options.leaveAfterMs);
  }

  expireKills(): void {
    this.#model.expireKills();
  }

  async changeRole(roomId: string, peerId: string, role: string, options: { at?: Date } = {}): Promise<void> {
    this.#model.changeRole(roomId, peerId, role, options.at);
  }

  async failJoin(roomId: string, input: PeerInput & { errorMessage: string }, options: { at?: Date } = {}) {
    this.#model.failJoin(roomId, input, options.at);
  }

  setClock(clock: () => Date): void {
    this.#model.clock = clock;
  }

  configureWebhooks(target: WebhookTarget): void {
    this.#webhooks.configure(target);
  }

  webhookOptions(options: WebhookChaos): void {
    this.#webhooks.setChaos(options);
  }

  holdWebhooks(): void {
    this.#webhooks.hold();
  }

  releaseWebhooks(options: { order?: ReleaseOrder; duplicates?: boolean } = {}): void {
    this.#webhooks.release(options);
  }

  dropNextWebhooks(count: number): void {
    this.#webhooks.drop(count);
  }

  sentWebhooks(): HmsWebhook[] {
    return [...this.#webhooks.produced];
  }

  flushWebhooks(): Promise<void> {
    return this.#webhooks.flush();
  }

  failNext(count: number, status = 500, options: { path?: string } = {}): void {
    for (let i = 0; i < count; i++) this.#failures.push({ status, path: options.path ?? "" });
  }

  get deliveryLog(): readonly LoggedDelivery[] {
    return this.#log.entries;
  }

  delayNext(count: number, ms: number): void {
    this.#delays.push(...Array<number>(count).fill(ms));
  }

  rejectTokenOnce(): void {
    this.#rejectToken = true;
  }

  /** Stops all timers (killed peers, retries, delays) and waits, bounded, for in-flight webhooks. */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#model.close();
    this.#log.close();
    await this.#webhooks.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
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
    const injected = this.#failures.findIndex((f) => url.pathname.startsWith(f.path));
    if (injected !== -1) {
      const { status } = this.#failures.splice(injected, 1)[0]!;
      return failure(status, status === 429 ? "rate limit exceeded, retry after 45 seconds" : "injected failure");
    }
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
    if (version === "v2" && collection === "analytics") {
      return this.#log.route(method, url.pathname.split("/").slice(3), url.searchParams, body) ?? failure(404, "route not found");
    }
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
    const room = existing ?? this.#model.newRoom(name);
    if (typeof body.template_id === "string") room.templateId = body.template_id;
    return this.#updateRoom(room, body);
  }

  #updateRoom(room: StandInRoom, body: Record<string, unknown>): Reply {
    const problem = roomBodyProblem(body);
    if (problem) return failure(400, "Invalid body param", [problem]);
    if (typeof body.description === "string") room.description = body.description;
    if (typeof body.region === "string") room.region = body.region;
    if (typeof body.size === "number") room.size = body.size;
    if (typeof body.max_duration_seconds === "number") room.maxDurationSeconds = body.max_duration_seconds;
    if (typeof body.enabled === "boolean") room.enabled = body.enabled;
    room.updatedAt = this.#model.clock();
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
    const message = typeof body.reason === "string" ? body.reason : "";
    this.#model.kick(room, matches.map((peer) => peer.id), message);
    return ok({ message: "peer remove request submitted" });
  }

  #endRoom(room: StandInRoom, body: Record<string, unknown>): Reply {
    this.#model.endRoom(room, { reason: typeof body.reason === "string" ? body.reason : "", lock: body.lock === true });
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
const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
