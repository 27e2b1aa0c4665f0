/**
 * 13. Peer: PostGraphile. What a user who does not pick the API would most likely run over the
 * same tables: PostGraphile 5 (amber preset) with row-level security for the same three scopes
 * (test/bench/postgraphile/: its own package, installed here on first use; setup.sql; server.mjs).
 * Ours (production mode), PostGraphile (same pool size, same bearer tokens) and the hand-written
 * SQL floor (baseline-server.ts) answer the same two reads of one doctor's:
 *
 *   dashboard  the first 50 of their 500 consultations with doctor, patient, appointment and
 *              presence (scenario 2's query)
 *   timeline   one consultation with the first 20 events of its timeline
 *
 * The answers are first mapped to one canonical form and compared (the same 50 consultations in
 * the same order, the same 20 events), and so are the three scopes (a patient's list, an
 * admin's, another doctor asking for this consultation). Then, in alternating rounds (each
 * round rotates who goes first), each read at 16 and 64 concurrent clients; each figure is the
 * median of the rounds, with their range. Targets (issue 29): the timeline ≥ 1.3× PostGraphile's
 * req/s, the dashboard ≥ 2× PostGraphile's and ≥ 0.5× the SQL floor's, with p99 < 60 ms at c=16.
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { decodeEventId } from "../../../src/consultations/event-cursor.js";
import { seedAdmins, seedBusyDoctor, seedCareTeams, seedEvents } from "../lib/database.js";
import type { Row, Scenario } from "../lib/context.js";
import type { RequestSpec } from "../lib/http-client.js";
import { API_POOL_MAX, applyPostGraphileSetup, ensurePostGraphileInstalled } from "../lib/postgraphile.js";
import { BENCH_JWT_SECRET, startPostGraphileProcess } from "../lib/processes.js";
import { ResourceSampler, rssKb, type ResourceReport } from "../lib/resources.js";
import { fmt } from "../lib/stats.js";
import type { LoopReport } from "../loadgen.js";
import { DASHBOARD_QUERY } from "./dashboard.js";

const CONCURRENCIES = [16, 64] as const;
const EVENTS = 20;
const TARGETS = { dashboardVsPeer: 2, dashboardVsSql: 0.5, dashboardP99Ms: 60, timelineVsPeer: 1.3 };

/** Scenario 2's dashboard, in PostGraphile's generated schema: the same fields, through its relations. */
const PEER_DASHBOARD_QUERY =
  "query Dashboard { allVideoConsultations(first: 50, orderBy: [SCHEDULED_AT_ASC, ROW_ID_ASC]) { edges { node { rowId status doctorByDoctorId { userByUserId { fullName } } patientByPatientId { userByUserId { fullName } } appointmentByAppointmentId { scheduledAt durationMinutes } consultationLiveByConsultationId { doctorOnline doctorJoinedAt patientOnline patientJoinedAt } } } } }";
export const TIMELINE_QUERY =
  "query Timeline($id: ID!) { consultation(id: $id) { id status doctor { fullName } patient { fullName } appointment { scheduledAt durationMinutes } events(first: 20) { edges { node { id type occurredAt status participant { role online } } } } } }";
/** `timeline` is setup.sql's computed column: the API's `events` (no retracted events, no retractions). */
const PEER_TIMELINE_QUERY =
  "query Timeline($id: UUID!) { videoConsultationByRowId(rowId: $id) { rowId status doctorByDoctorId { userByUserId { fullName } } patientByPatientId { userByUserId { fullName } } appointmentByAppointmentId { scheduledAt durationMinutes } timeline(first: 20) { edges { node { rowId type occurredAt status side } } } } }";
/** What a scope sees: its first 50 consultation ids. */
const SCOPE_QUERY = "query Scope { consultations(first: 50) { edges { node { id } } } }";
const PEER_SCOPE_QUERY = "query Scope { allVideoConsultations(first: 50, orderBy: [SCHEDULED_AT_ASC, ROW_ID_ASC]) { edges { node { rowId } } } }";

const SYSTEMS = ["ours", "peer", "sql"] as const;
type System = (typeof SYSTEMS)[number];
type Read = "dashboard" | "timeline";

interface Measured {
  report: LoopReport;
  resources: ResourceReport;
}

export const peer: Scenario = {
  id: 13,
  name: "Peer: PostGraphile",
  async run(ctx) {
    // Short alternating rounds rather than long runs: on a shared machine, other work comes and
    // goes within seconds, and should fall on the three sides alike.
    const rounds = ctx.quick ? 2 : 3;
    const seconds = ctx.quick ? 3 : 4;
    const version = await ensurePostGraphileInstalled(ctx.log);
    const db = await ctx.newDatabase();
    try {
      ctx.log(`seeding a doctor with 500 consultations, 500 other care teams, an admin, ${EVENTS} events per consultation`);
      const doctor = await seedBusyDoctor(db.sql, 500);
      const others = await seedCareTeams(db.sql, 500);
      const [adminId] = await seedAdmins(db.sql, 1);
      const consultationId = doctor.consultationIds[0]!;
      await seedEvents(db.sql, [...doctor.consultationIds, ...others.map((t) => t.consultationId)], EVENTS);
      const [patient] = await db.sql<{ userId: string }[]>`
        select p.user_id as "userId" from video_consultations vc join patients p on p.id = vc.patient_id where vc.id = ${consultationId}`;
      const peerDb = await applyPostGraphileSetup(db);
      await db.sql`analyze`;
      const tokens = {
        doctor: await signAccessToken(BENCH_JWT_SECRET, doctor.doctorUserId, { ttlSeconds: 7200 }),
        patient: await signAccessToken(BENCH_JWT_SECRET, patient!.userId, { ttlSeconds: 7200 }),
        admin: await signAccessToken(BENCH_JWT_SECRET, adminId!, { ttlSeconds: 7200 }),
        otherDoctor: await signAccessToken(BENCH_JWT_SECRET, others[0]!.doctorUserId, { ttlSeconds: 7200 }),
      };

      const api = await ctx.startApi(db);
      ctx.log(`PostGraphile ${version} (amber preset, pool ${API_POOL_MAX}, row-level security)`);
      const pgl = await startPostGraphileProcess({ databaseUrl: peerDb.url, role: peerDb.role, poolMax: API_POOL_MAX });
      const base = await ctx.startBaseline(db);
      const lg = await ctx.startLoadgen();
      try {
        const specs: Record<Read, Record<System, RequestSpec>> = {
          dashboard: {
            ours: gqlSpec(api.url, tokens.doctor, DASHBOARD_QUERY),
            peer: gqlSpec(pgl.url, tokens.doctor, PEER_DASHBOARD_QUERY),
            sql: { method: "GET", url: `${base.url}/dashboard?doctorId=${doctor.doctorId}` },
          },
          timeline: {
            ours: gqlSpec(api.url, tokens.doctor, TIMELINE_QUERY, { id: consultationId }),
            peer: gqlSpec(pgl.url, tokens.doctor, PEER_TIMELINE_QUERY, { id: consultationId }),
            sql: { method: "GET", url: `${base.url}/timeline?consultationId=${consultationId}&doctorId=${doctor.doctorId}` },
          },
        };

        ctx.log("checking the answers are the same (canonical form), and the scopes");
        const dashboards = {
          ours: canonicalDashboard(await answer(specs.dashboard.ours)),
          peer: canonicalPeerDashboard(await answer(specs.dashboard.peer)),
          sql: canonicalDashboard(await answer(specs.dashboard.sql)),
        };
        const sameDashboard = compare(dashboards, (d) => d.length === 50, "50 consultations");
        const timelines = {
          ours: canonicalTimeline(await answer(specs.timeline.ours)),
          peer: canonicalPeerTimeline(await answer(specs.timeline.peer)),
          sql: canonicalTimeline(await answer(specs.timeline.sql)),
        };
        const sameTimeline = compare(timelines, (t) => t?.events.length === EVENTS, `${EVENTS} events`);
        const scopes = await compareScopes(api.url, pgl.url, tokens, consultationId);
        ctx.log(`same dashboard: ${sameDashboard}; same timeline: ${sameTimeline}; same scopes: ${scopes}`);

        const pids: Record<System, Record<string, number>> = {
          ours: { api: api.pid, loadgen: lg.pid },
          peer: { postgraphile: pgl.pid, loadgen: lg.pid },
          sql: { baseline: base.pid, loadgen: lg.pid },
        };
        const serverPid: Record<System, number> = { ours: api.pid, peer: pgl.pid, sql: base.pid };
        const serverName: Record<System, string> = { ours: "api", peer: "postgraphile", sql: "baseline" };
        const idleRss = Object.fromEntries(SYSTEMS.map((s) => [s, rssKb(serverPid[s])])) as Record<System, number>;

        const combos = (["dashboard", "timeline"] as const).flatMap((read) => CONCURRENCIES.map((concurrency) => ({ read, concurrency })));
        const results = new Map<string, Record<System, Measured[]>>(combos.map((c) => [`${c.read}/${c.concurrency}`, { ours: [], peer: [], sql: [] }]));
        for (let round = 0; round < rounds; round++) {
          for (const [i, { read, concurrency }] of combos.entries()) {
            const shift = (round + i) % SYSTEMS.length;
            const order = [...SYSTEMS.slice(shift), ...SYSTEMS.slice(0, shift)];
            for (const [position, system] of order.entries()) {
              const loop = (maxSeconds: number) =>
                lg.call<LoopReport>("closedLoop", { requests: [specs[read][system]], concurrency, maxRequests: 1_000_000, maxSeconds, accept: "graphql-ok" });
              await loop(round === 0 ? 2 : 1);
              ctx.log(`round ${round + 1}/${rounds}: ${read} c=${concurrency} ${system} ${seconds} s`);
              // The quiet-machine wait once per alternation (before its first system), not between its three.
              const sampler = position === 0 ? await ctx.sample(pids[system], db) : new ResourceSampler(pids[system], db.sql, db.name).start();
              const report = await loop(seconds);
              results.get(`${read}/${concurrency}`)![system].push({ report, resources: await sampler.stop() });
            }
          }
        }

        const rows: Row[] = [];
        for (const { read, concurrency } of combos) {
          const r = results.get(`${read}/${concurrency}`)!;
          const scenario =
            read === "dashboard"
              ? `13 Peer: dashboard (first: 50 of 500, c=${concurrency})`
              : `13 Peer: timeline (1 consultation + ${EVENTS} events, c=${concurrency})`;
          rows.push(...rowsFor(scenario, read, concurrency, r, read === "dashboard" ? sameDashboard : sameTimeline, rounds, seconds));
        }
        const loadRss = (s: System) => Math.max(...[...results.values()].flatMap((r) => r[s].map((m) => m.resources.rssMaxKb[serverName[s]] ?? 0)));
        const mb = (kb: number) => kb / 1024;
        rows.push(
          {
            scenario: "13 Peer: server RSS", metric: "idle (after start and the checks)", ours: mb(idleRss.ours), peer: mb(idleRss.peer), baseline: mb(idleRss.sql), unit: "MB",
            note: `PostGraphile ${version}, amber preset, NODE_ENV=production, pool ${API_POOL_MAX} (the API's DATABASE_POOL_MAX), on Node ${process.version} (it asks for ≥ 22: test/bench/postgraphile/node20.mjs supplies Promise.withResolvers); row-level security as test/bench/postgraphile/setup.sql; scopes checked before measuring, the same as ours: ${scopes}`,
          },
          { scenario: "13 Peer: server RSS", metric: "under load (highest sampled)", ours: mb(loadRss("ours")), peer: mb(loadRss("peer")), baseline: mb(loadRss("sql")), unit: "MB" },
        );
        return rows;
      } finally {
        await lg.stop();
        await api.stop();
        await pgl.stop();
        await base.stop();
      }
    } finally {
      await db.drop();
    }
  },
};

/** The middle of the rounds' figures (the mean of the two middle ones for an even count). */
function middle(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
}

function withRange(values: readonly number[], unit: string): string {
  const sorted = [...values].sort((a, b) => a - b);
  const range = sorted.length > 1 ? ` (${fmt(sorted[0])}–${fmt(sorted.at(-1))})` : "";
  return `${fmt(middle(values))} ${unit}${range}`;
}

function rowsFor(scenario: string, read: Read, concurrency: number, r: Record<System, Measured[]>, same: string, rounds: number, seconds: number): Row[] {
  const figure = (s: System, pick: (m: Measured) => number) => r[s].map(pick);
  const rate = (m: Measured) => m.report.rate;
  const p50 = (m: Measured) => m.report.latency.p50;
  const p99 = (m: Measured) => m.report.latency.p99;
  const row = (metric: string, pick: (m: Measured) => number, unit: string): Row => ({
    scenario, metric, unit,
    ours: middle(figure("ours", pick)), oursText: withRange(figure("ours", pick), unit),
    peer: middle(figure("peer", pick)), peerText: withRange(figure("peer", pick), unit),
    baseline: middle(figure("sql", pick)), baselineText: withRange(figure("sql", pick), unit),
  });
  const rates = row("req/s", rate, "/s");
  const vsPeer = rates.ours! / rates.peer!;
  const vsSql = rates.ours! / rates.baseline!;
  if (read === "dashboard") {
    const peerMet = vsPeer >= TARGETS.dashboardVsPeer;
    const sqlMet = vsSql >= TARGETS.dashboardVsSql;
    rates.target = {
      text: `≥ ${TARGETS.dashboardVsPeer}× peer, ≥ ${TARGETS.dashboardVsSql}× SQL`,
      met: peerMet && sqlMet,
      detail: peerMet === sqlMet ? undefined : `peer ${peerMet ? "yes" : "MISSED"}, SQL ${sqlMet ? "yes" : "MISSED"}`,
    };
  } else {
    rates.target = { text: `≥ ${TARGETS.timelineVsPeer}× peer`, met: vsPeer >= TARGETS.timelineVsPeer };
  }
  const last = (s: System) => r[s].at(-1)!;
  const count = (s: System) => `${r[s].reduce((n, m) => n + m.report.ok, 0)} ok / ${r[s].reduce((n, m) => n + m.report.failed, 0)} failed`;
  rates.resources = last("ours").resources;
  rates.peerResources = last("peer").resources;
  rates.baselineResources = last("sql").resources;
  rates.note =
    `${rounds} rounds of ${seconds} s each, alternating; median (range); peer = PostGraphile, baseline = hand-written SQL; CPU of the last round. ` +
    `ours ${count("ours")}, PostGraphile ${count("peer")}, SQL ${count("sql")}; ` +
    (read === "dashboard" ? `same 50 consultations in the same order (and fields): ${same}` : `same consultation and ${EVENTS} events (ids, types, times, status, side): ${same}`);
  const p99Row = row("p99", p99, "ms");
  if (read === "dashboard" && concurrency === 16) p99Row.target = { text: `< ${TARGETS.dashboardP99Ms} ms`, met: p99Row.ours! < TARGETS.dashboardP99Ms };
  return [rates, row("p50", p50, "ms"), p99Row];
}

// ---- answers, in one canonical form -------------------------------------------------------

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function answer(spec: RequestSpec): Promise<Json> {
  const response = await fetch(spec.url, { method: spec.method, headers: spec.headers, body: spec.body });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return { errors: [{ message: `${response.status} ${text.slice(0, 200)}` }] };
  }
}

/** Milliseconds since the epoch as ISO (PostgreSQL's microseconds, PostGraphile's `+00:00`, the API's `Z`: one form). */
const iso = (value: string | null | undefined) => (value == null ? null : new Date(value).toISOString());
const presence = (role: string, online: boolean, joinedAt: string | null | undefined) => `${role}:${online}:${iso(joinedAt)}`;

function canonicalDashboard(body: Json): unknown[] | string {
  const edges = body?.data?.consultations?.edges;
  if (!Array.isArray(edges)) return `no answer: ${JSON.stringify(body?.errors ?? body).slice(0, 200)}`;
  return edges.map(({ node: n }: Json) => ({
    id: n.id, status: n.status, doctor: n.doctor.fullName, patient: n.patient.fullName,
    scheduledAt: iso(n.appointment.scheduledAt), durationMinutes: n.appointment.durationMinutes,
    participants: n.participants.map((p: Json) => presence(p.role, p.online, p.joinedAt)).join(" "),
  }));
}

function canonicalPeerDashboard(body: Json): unknown[] | string {
  const edges = body?.data?.allVideoConsultations?.edges;
  if (!Array.isArray(edges)) return `no answer: ${JSON.stringify(body?.errors ?? body).slice(0, 200)}`;
  return edges.map(({ node: n }: Json) => {
    const live = n.consultationLiveByConsultationId;
    return {
      id: n.rowId, status: n.status.toUpperCase(), doctor: n.doctorByDoctorId.userByUserId.fullName, patient: n.patientByPatientId.userByUserId.fullName,
      scheduledAt: iso(n.appointmentByAppointmentId.scheduledAt), durationMinutes: n.appointmentByAppointmentId.durationMinutes,
      participants: [presence("DOCTOR", live?.doctorOnline ?? false, live?.doctorJoinedAt), presence("PATIENT", live?.patientOnline ?? false, live?.patientJoinedAt)].join(" "),
    };
  });
}

interface Timeline {
  id: string;
  status: string;
  doctor: string;
  patient: string;
  scheduledAt: string | null;
  durationMinutes: number;
  events: string[];
}

function canonicalTimeline(body: Json): Timeline | string {
  const c = body?.data?.consultation;
  if (!c) return `no answer: ${JSON.stringify(body?.errors ?? body).slice(0, 200)}`;
  return {
    id: c.id, status: c.status, doctor: c.doctor.fullName, patient: c.patient.fullName,
    scheduledAt: iso(c.appointment.scheduledAt), durationMinutes: c.appointment.durationMinutes,
    events: c.events.edges.map(({ node: e }: Json) => [decodeEventId(e.id), e.type, iso(e.occurredAt), e.status, e.participant?.role ?? null, e.participant?.online ?? null].join("|")),
  };
}

function canonicalPeerTimeline(body: Json): Timeline | string {
  const c = body?.data?.videoConsultationByRowId;
  if (!c) return `no answer: ${JSON.stringify(body?.errors ?? body).slice(0, 200)}`;
  return {
    id: c.rowId, status: c.status.toUpperCase(), doctor: c.doctorByDoctorId.userByUserId.fullName, patient: c.patientByPatientId.userByUserId.fullName,
    scheduledAt: iso(c.appointmentByAppointmentId.scheduledAt), durationMinutes: c.appointmentByAppointmentId.durationMinutes,
    events: c.timeline.edges.map(({ node: e }: Json) =>
      [Number(e.rowId), e.type, iso(e.occurredAt), e.status.toUpperCase(), e.side?.toUpperCase() ?? null, e.side ? e.type === "PARTICIPANT_JOINED" : null].join("|"),
    ),
  };
}

/** "yes", or "NO (…)" naming who differs from ours and where first. */
function compare<T>(answers: Record<System, T | string>, complete: (a: T) => boolean, what: string): string {
  const problems: string[] = [];
  for (const system of SYSTEMS) {
    const a = answers[system];
    if (typeof a === "string") problems.push(`${system}: ${a}`);
    else if (!complete(a)) problems.push(`${system}: not ${what}`);
  }
  const ours = JSON.stringify(answers.ours);
  for (const system of ["peer", "sql"] as const) {
    const other = JSON.stringify(answers[system]);
    if (typeof answers[system] !== "string" && other !== ours) {
      const at = [...ours].findIndex((ch, i) => other[i] !== ch);
      problems.push(`${system} differs from ours at …${ours.slice(Math.max(0, at - 40), at + 60)}… vs …${other.slice(Math.max(0, at - 40), at + 60)}…`);
    }
  }
  return problems.length ? `NO (${problems.join("; ")})` : "yes";
}

/**
 * The scopes, ours against PostGraphile's row-level security: the doctor's first 50, the
 * patient's (one consultation), the admin's first 50 of all 1,000, and another doctor asking
 * for this doctor's consultation (hidden: null in both).
 */
async function compareScopes(api: string, pgl: string, tokens: Record<"doctor" | "patient" | "admin" | "otherDoctor", string>, consultationId: string): Promise<string> {
  const ids = async (token: string) => {
    const ours = ((await answer(gqlSpec(api, token, SCOPE_QUERY))).data?.consultations?.edges ?? []).map((e: Json) => e.node.id as string);
    const theirs = ((await answer(gqlSpec(pgl, token, PEER_SCOPE_QUERY))).data?.allVideoConsultations?.edges ?? []).map((e: Json) => e.node.rowId as string);
    return { ours, theirs };
  };
  const problems: string[] = [];
  const expect = (name: string, got: { ours: string[]; theirs: string[] }, count: number) => {
    if (got.ours.join() !== got.theirs.join() || got.ours.length !== count) problems.push(`${name}: ours ${got.ours.length}, PostGraphile ${got.theirs.length}${got.ours.join() === got.theirs.join() ? "" : ", different"}`);
  };
  expect("doctor", await ids(tokens.doctor), 50);
  const patient = await ids(tokens.patient);
  expect("patient", patient, 1);
  if (patient.ours[0] !== consultationId) problems.push("patient: not their consultation");
  expect("admin", await ids(tokens.admin), 50);
  const oursHidden = (await answer(gqlSpec(api, tokens.otherDoctor, TIMELINE_QUERY, { id: consultationId }))).data?.consultation;
  const theirsHidden = (await answer(gqlSpec(pgl, tokens.otherDoctor, PEER_TIMELINE_QUERY, { id: consultationId }))).data?.videoConsultationByRowId;
  if (oursHidden !== null || theirsHidden !== null) problems.push(`another doctor: ours ${oursHidden === null ? "hidden" : "SHOWN"}, PostGraphile ${theirsHidden === null ? "hidden" : "SHOWN"}`);
  const summary = "doctor 50, patient 1, admin 50 of 1,000, another doctor's consultation hidden";
  return problems.length ? `NO (${problems.join("; ")})` : `yes (${summary})`;
}

function gqlSpec(url: string, token: string, query: string, variables?: Record<string, unknown>): RequestSpec {
  return {
    method: "POST",
    url: `${url}/graphql`,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(variables ? { query, variables } : { query }),
  };
}
