/**
 * The floor each scenario is measured against: bare node:http (+ `ws`) handlers doing only
 * the unavoidable work, in their own process, on the same machine and database.
 *
 *   POST /ingest      one INSERT … ON CONFLICT DO NOTHING of the raw webhook body
 *   GET  /dashboard   one hand-written SQL query building the whole response JSON (json_agg)
 *   GET  /timeline    one consultation with its first events, likewise one query (scenario 12)
 *   POST /join        mints the same 100ms app token with jose; no database
 *   POST /setup       room → consultation/doctor map for /push (given once, no database)
 *   POST /push        a webhook sent straight to the subscribed sockets (graphql-ws frames)
 *   WS   /graphql     graphql-transport-ws handshake (token verified) and one subscription
 *   GET  /stats       sockets open and subscribed
 */
import { randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { jwtVerify, SignJWT } from "jose";
import postgres from "postgres";
import { WebSocketServer, type WebSocket } from "ws";
import { HMS_CREDS } from "./lib/hms.js";

const port = Number(process.env.BENCH_PORT);
const sql = postgres(process.env.BENCH_DATABASE_URL!, { max: 10, onnotice: () => {} });
const authKey = new TextEncoder().encode(process.env.AUTH_JWT_SECRET!);
const webhookSecret = Buffer.from(process.env.HMS_WEBHOOK_SECRET!);
const hmsKey = new TextEncoder().encode(HMS_CREDS.appSecret);

await sql`create table if not exists bench_raw_webhooks (id text primary key, body jsonb not null, received_at timestamptz not null default now())`;

interface Subscriber {
  ws: WebSocket;
  userId: string;
  subscriptionId: string | null;
}
const subscribers = new Set<Subscriber>();
const byUser = new Map<string, Set<Subscriber>>();
let rooms = new Map<string, { consultationId: string; doctorUserId: string }>();
let admins = new Set<string>();
let eventSeq = 0;

const DASHBOARD_SQL = `
select json_build_object('data', json_build_object('consultations', json_build_object('edges',
  coalesce(json_agg(json_build_object('node', json_build_object(
    'id', p.id,
    'status', upper(p.status),
    'doctor', json_build_object('fullName', du.full_name),
    'patient', json_build_object('fullName', pu.full_name),
    'appointment', json_build_object('scheduledAt', p.scheduled_at, 'durationMinutes', p.duration_minutes),
    'participants', json_build_array(
      json_build_object('role', 'DOCTOR', 'online', coalesce(l.doctor_online, false), 'joinedAt', l.doctor_joined_at),
      json_build_object('role', 'PATIENT', 'online', coalesce(l.patient_online, false), 'joinedAt', l.patient_joined_at))
  )) order by p.scheduled_at, p.id), '[]'::json))))::text as body
from (
  select vc.id, vc.status, vc.doctor_id, vc.patient_id, a.scheduled_at, a.duration_minutes
  from video_consultations vc join appointments a on a.id = vc.appointment_id
  where vc.doctor_id = $1
  order by a.scheduled_at, vc.id
  limit 50
) p
join doctors d on d.id = p.doctor_id join users du on du.id = d.user_id
join patients pt on pt.id = p.patient_id join users pu on pu.id = pt.user_id
left join consultation_live l on l.consultation_id = p.id`;

/**
 * One consultation of the doctor's with the first 20 events of its timeline, as the API shows
 * them (oldest first, no retracted events or retractions; event ids as the API's opaque `ev1:`
 * cursors), in the shape of the API's answer to scenario 12's timeline query.
 */
const TIMELINE_SQL = `
select json_build_object('data', json_build_object('consultation', json_build_object(
  'id', vc.id,
  'status', upper(vc.status),
  'doctor', json_build_object('fullName', du.full_name),
  'patient', json_build_object('fullName', pu.full_name),
  'appointment', json_build_object('scheduledAt', a.scheduled_at, 'durationMinutes', a.duration_minutes),
  'events', json_build_object('edges', coalesce((
    select json_agg(json_build_object('node', json_build_object(
      'id', translate(rtrim(encode(convert_to('ev1:' || e.id, 'UTF8'), 'base64'), '='), '+/', '-_'),
      'type', e.type,
      'occurredAt', e.occurred_at,
      'status', upper(e.status),
      'participant', case when e.side is null then null
        else json_build_object('role', upper(e.side), 'online', e.type = 'PARTICIPANT_JOINED') end
    )) order by e.id)
    from (
      select e.* from consultation_events e
      where e.consultation_id = vc.id and e.type <> 'EVENT_RETRACTED'
        and not exists (select 1 from consultation_events r where r.retracts_id = e.id)
      order by e.id limit 20
    ) e), '[]'::json))
)))::text as body
from video_consultations vc
join appointments a on a.id = vc.appointment_id
join doctors d on d.id = vc.doctor_id join users du on du.id = d.user_id
join patients pt on pt.id = vc.patient_id join users pu on pu.id = pt.user_id
where vc.id = $1 and vc.doctor_id = $2`;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { "content-type": "application/json" }).end(body);
}

function secretOk(req: IncomingMessage): boolean {
  const given = req.headers["x-hms-webhook-secret"];
  return typeof given === "string" && given.length === webhookSecret.length && timingSafeEqual(Buffer.from(given), webhookSecret);
}

async function mintAppToken(roomId: string, userId: string, role: string): Promise<{ token: string; expiresAt: string }> {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + 3600;
  const token = await new SignJWT({ access_key: HMS_CREDS.accessKey, room_id: roomId, user_id: userId, role, type: "app", version: 2 })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setJti(randomUUID())
    .setIssuedAt(now - 10)
    .setNotBefore(now - 10)
    .setExpirationTime(exp)
    .sign(hmsKey);
  return { token, expiresAt: new Date(exp * 1000).toISOString() };
}

/** The same frame the API sends for a patient's join/leave webhook (no database). */
function frameFor(webhook: { type: string; data: Record<string, string> }, consultationId: string) {
  const joined = webhook.type === "peer.join.success";
  const at = new Date(joined ? webhook.data.joined_at! : webhook.data.left_at!).toISOString();
  return {
    id: Buffer.from(`ev1:${++eventSeq}`).toString("base64url"),
    type: joined ? "PARTICIPANT_JOINED" : "PARTICIPANT_LEFT",
    occurredAt: at,
    status: "PENDING",
    previousStatus: null,
    participant: { role: "PATIENT", online: joined, joinedAt: new Date(webhook.data.joined_at!).toISOString(), leftAt: joined ? null : at },
    consultation: { id: consultationId, status: "PENDING" },
  };
}

function sendFrame(subscriber: Subscriber, event: unknown) {
  if (subscriber.subscriptionId === null) return;
  subscriber.ws.send(JSON.stringify({ id: subscriber.subscriptionId, type: "next", payload: { data: { myConsultationEvents: event } } }));
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? "/", "http://baseline");
    if (req.method === "GET" && url.pathname === "/healthz") return json(res, 200, '{"status":"ok"}');
    if (req.method === "GET" && url.pathname === "/stats") {
      const subscribed = [...subscribers].filter((s) => s.subscriptionId !== null).length;
      return json(res, 200, JSON.stringify({ sockets: subscribers.size, subscribed }));
    }
    if (req.method === "POST" && url.pathname === "/ingest") {
      const body = await readBody(req);
      if (!secretOk(req)) return json(res, 401, '{"error":"unauthorized"}');
      await sql`insert into bench_raw_webhooks (id, body) select b->>'id', b from (select (${body.toString("utf8")}::text)::jsonb as b) s on conflict (id) do nothing`;
      return json(res, 200, '{"status":"accepted"}');
    }
    if (req.method === "GET" && url.pathname === "/dashboard") {
      const [row] = await sql.unsafe<{ body: string }[]>(DASHBOARD_SQL, [url.searchParams.get("doctorId") ?? ""]);
      return json(res, 200, row!.body);
    }
    if (req.method === "GET" && url.pathname === "/timeline") {
      const [row] = await sql.unsafe<{ body: string }[]>(TIMELINE_SQL, [url.searchParams.get("consultationId") ?? "", url.searchParams.get("doctorId") ?? ""]);
      return json(res, 200, row?.body ?? '{"data":{"consultation":null}}');
    }
    if (req.method === "POST" && url.pathname === "/join") {
      const body = JSON.parse((await readBody(req)).toString("utf8")) as { variables: { id: string }; roomId: string; userId: string };
      const minted = await mintAppToken(body.roomId, body.userId, "doctor");
      return json(res, 200, JSON.stringify({ data: { joinConsultation: { token: minted.token, roomId: body.roomId, role: "DOCTOR", expiresAt: minted.expiresAt } } }));
    }
    if (req.method === "POST" && url.pathname === "/setup") {
      const body = JSON.parse((await readBody(req)).toString("utf8")) as { rooms: Record<string, { consultationId: string; doctorUserId: string }>; admins: string[] };
      rooms = new Map(Object.entries(body.rooms));
      admins = new Set(body.admins);
      return json(res, 200, "{}");
    }
    if (req.method === "POST" && url.pathname === "/push") {
      const body = await readBody(req);
      if (!secretOk(req)) return json(res, 401, '{"error":"unauthorized"}');
      const webhook = JSON.parse(body.toString("utf8")) as { type: string; data: Record<string, string> };
      const room = rooms.get(webhook.data.room_id ?? "");
      if (room) {
        const event = frameFor(webhook, room.consultationId);
        for (const subscriber of byUser.get(room.doctorUserId) ?? []) sendFrame(subscriber, event);
        for (const adminId of admins) for (const subscriber of byUser.get(adminId) ?? []) sendFrame(subscriber, event);
      }
      return json(res, 200, '{"status":"accepted"}');
    }
    json(res, 404, '{"error":"not found"}');
  } catch (error) {
    json(res, 500, JSON.stringify({ error: (error as Error).message }));
  }
});

const wss = new WebSocketServer({ server, path: "/graphql", maxPayload: 64 * 1024 });
wss.on("connection", (ws) => {
  let subscriber: Subscriber | null = null;
  ws.on("message", async (data) => {
    const message = JSON.parse(data.toString()) as { type: string; id?: string; payload?: { authorization?: string } };
    if (message.type === "connection_init") {
      try {
        const token = (message.payload?.authorization ?? "").replace(/^Bearer /, "");
        const { payload } = await jwtVerify(token, authKey, { algorithms: ["HS256"] });
        subscriber = { ws, userId: String(payload.sub), subscriptionId: null };
        subscribers.add(subscriber);
        const own = byUser.get(subscriber.userId) ?? new Set<Subscriber>();
        own.add(subscriber);
        byUser.set(subscriber.userId, own);
        ws.send('{"type":"connection_ack"}');
      } catch {
        ws.close(4403, "Forbidden");
      }
    } else if (message.type === "subscribe" && subscriber) {
      subscriber.subscriptionId = message.id ?? null;
    } else if (message.type === "ping") {
      ws.send('{"type":"pong"}');
    }
  });
  ws.on("close", () => {
    if (!subscriber) return;
    subscribers.delete(subscriber);
    byUser.get(subscriber.userId)?.delete(subscriber);
  });
  ws.on("error", () => {});
});

server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => {
  for (const ws of wss.clients) ws.terminate();
  server.close();
  void sql.end({ timeout: 1 }).finally(() => process.exit(0));
});
