/**
 * 2. Dashboard query: a doctor with 500 consultations asks for the first 50 with doctor,
 * patient, appointment and presence, from 16 concurrent clients. Baseline: one hand-written
 * SQL query building the same JSON (json_agg) behind bare node:http.
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { seedBusyDoctor } from "../lib/database.js";
import type { Row, Scenario } from "../lib/context.js";
import { BENCH_JWT_SECRET } from "../lib/processes.js";
import { countStatements } from "../lib/statements.js";
import type { LoopReport } from "../loadgen.js";

const CONCURRENCY = 16;
export const DASHBOARD_QUERY =
  "query Dashboard { consultations(first: 50) { edges { node { id status doctor { fullName } patient { fullName } appointment { scheduledAt durationMinutes } participants { role online joinedAt } } } } }";

export const dashboard: Scenario = {
  id: 2,
  name: "Dashboard query",
  async run(ctx) {
    const seconds = ctx.quick ? 5 : 10;
    const db = await ctx.newDatabase();
    try {
      ctx.log("seeding a doctor with 500 consultations");
      const doctor = await seedBusyDoctor(db.sql, 500);
      const token = await signAccessToken(BENCH_JWT_SECRET, doctor.doctorUserId);
      const api = await ctx.startApi(db);
      const lg = await ctx.startLoadgen();
      const base = await ctx.startBaseline(db);
      try {
        const ours = { method: "POST" as const, url: `${api.url}/graphql`, headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query: DASHBOARD_QUERY }) };
        const floor = { method: "GET" as const, url: `${base.url}/dashboard?doctorId=${doctor.doctorId}` };
        const same = await sameAnswer(ours, floor);
        const loop = (spec: typeof ours | typeof floor, maxSeconds: number) =>
          lg.call<LoopReport>("closedLoop", { requests: [spec], concurrency: CONCURRENCY, maxRequests: 1_000_000, maxSeconds, accept: "graphql-ok" });
        await loop(ours, 2);
        ctx.log(`ours: ${seconds} s at concurrency ${CONCURRENCY}`);
        const sampler = await ctx.sample({ api: api.pid, loadgen: lg.pid }, db);
        const o = await loop(ours, seconds);
        const oursResources = await sampler.stop();
        await api.stop();
        await loop(floor, 2);
        ctx.log(`baseline: ${seconds} s at concurrency ${CONCURRENCY}`);
        const baseSampler = await ctx.sample({ baseline: base.pid, loadgen: lg.pid }, db);
        const b = await loop(floor, seconds);
        const baseResources = await baseSampler.stop();
        ctx.log("counting SQL statements per request (in-process API with onQuery)");
        const statements = await countStatements<{ inRequest: number; background: number }>(db.url, {
          BENCH_MODE: "dashboard",
          BENCH_USER_ID: doctor.doctorUserId,
          BENCH_QUERY: DASHBOARD_QUERY,
        }).catch((error: Error) => {
          ctx.log(`statement count failed: ${error.message}`);
          return null;
        });
        const scenario = `2 Dashboard query (first: 50 of 500, c=${CONCURRENCY}, ${seconds} s)`;
        return [
          {
            scenario, metric: "req/s", ours: o.rate, baseline: b.rate, unit: "/s",
            target: { text: "≥ 35% of baseline", met: o.rate >= 0.35 * b.rate },
            resources: oursResources, baselineResources: baseResources,
            note: `ours ${o.ok} ok / ${o.failed} failed, baseline ${b.ok} ok; same 50 consultations in the same order: ${same}`,
          },
          { scenario, metric: "p50", ours: o.latency.p50, baseline: b.latency.p50, unit: "ms" },
          { scenario, metric: "p99", ours: o.latency.p99, baseline: b.latency.p99, unit: "ms", target: { text: "< 100 ms", met: o.latency.p99 < 100 } },
          {
            scenario, metric: "SQL statements/request", ours: statements?.inRequest ?? null, baseline: 1, unit: "",
            oursText: statements ? `${statements.inRequest} (+${statements.background} audit, async)` : "n/a",
            note: "counted in-process with openDatabase's onQuery, BEGIN/COMMIT not included (pg_stat_statements is not in shared_preload_libraries on this server)",
          },
        ] satisfies Row[];
      } finally {
        await lg.stop();
        await api.stop();
        await base.stop();
      }
    } finally {
      await db.drop();
    }
  },
};

/** Both answer with the same consultations in the same order. */
async function sameAnswer(ours: { url: string; headers: Record<string, string>; body: string }, floor: { url: string }): Promise<string> {
  type Page = { data: { consultations: { edges: Array<{ node: { id: string } }> } } };
  const a = (await (await fetch(ours.url, { method: "POST", headers: ours.headers, body: ours.body })).json()) as Page;
  const b = (await (await fetch(floor.url)).json()) as Page;
  const ids = (p: Page) => p.data.consultations.edges.map((e) => e.node.id).join(",");
  return ids(a) === ids(b) && a.data.consultations.edges.length === 50 ? "yes" : "NO";
}

