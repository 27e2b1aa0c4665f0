/**
 * 2. Dashboard query: a doctor with 500 consultations asks for the first 50 with doctor,
 * patient, appointment and presence, from 16 and from 64 concurrent clients. Baseline: one
 * hand-written SQL query building the same JSON (json_agg) behind bare node:http, at the same
 * concurrency. Ours runs at both concurrencies, then stops (its async audit writes with it),
 * then the baseline runs at both.
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { seedBusyDoctor } from "../lib/database.js";
import type { Row, Scenario } from "../lib/context.js";
import { BENCH_JWT_SECRET } from "../lib/processes.js";
import type { ResourceReport } from "../lib/resources.js";
import { countStatements } from "../lib/statements.js";
import type { LoopReport } from "../loadgen.js";

const CONCURRENCIES = [16, 64] as const;
const P99_TARGET_MS = 60;
const RATIO_TARGET = 0.5;
export const DASHBOARD_QUERY =
  "query Dashboard { consultations(first: 50) { edges { node { id status doctor { fullName } patient { fullName } appointment { scheduledAt durationMinutes } participants { role online joinedAt } } } } }";

interface Measured {
  report: LoopReport;
  resources: ResourceReport;
}

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
        const loop = (spec: typeof ours | typeof floor, concurrency: number, maxSeconds: number) =>
          lg.call<LoopReport>("closedLoop", { requests: [spec], concurrency, maxRequests: 1_000_000, maxSeconds, accept: "graphql-ok" });
        const measure = async (name: string, spec: typeof ours | typeof floor, pids: Record<string, number>): Promise<Measured[]> => {
          const results: Measured[] = [];
          for (const concurrency of CONCURRENCIES) {
            await loop(spec, concurrency, 2);
            ctx.log(`${name}: ${seconds} s at concurrency ${concurrency}`);
            const sampler = await ctx.sample(pids, db);
            const report = await loop(spec, concurrency, seconds);
            results.push({ report, resources: await sampler.stop() });
          }
          return results;
        };
        const o = await measure("ours", ours, { api: api.pid, loadgen: lg.pid });
        await api.stop();
        const b = await measure("baseline", floor, { baseline: base.pid, loadgen: lg.pid });
        ctx.log("counting SQL statements per request (in-process API with onQuery)");
        const statements = await countStatements<{ inRequest: number; background: number }>(db.url, {
          BENCH_MODE: "dashboard",
          BENCH_USER_ID: doctor.doctorUserId,
          BENCH_QUERY: DASHBOARD_QUERY,
        }).catch((error: Error) => {
          ctx.log(`statement count failed: ${error.message}`);
          return null;
        });
        const rows = CONCURRENCIES.flatMap((concurrency, i) => rowsAt(`2 Dashboard query (first: 50 of 500, c=${concurrency}, ${seconds} s)`, o[i]!, b[i]!, same));
        rows.push({
          scenario: `2 Dashboard query (first: 50 of 500)`, metric: "SQL statements/request", ours: statements?.inRequest ?? null, baseline: 1, unit: "",
          oursText: statements ? `${statements.inRequest} (+${statements.background} audit, async)` : "n/a",
          note: "counted in-process with openDatabase's onQuery, BEGIN/COMMIT not included (pg_stat_statements is not in shared_preload_libraries on this server)",
        });
        return rows;
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

/** Throughput, p50 and p99 at one concurrency, against the baseline at the same concurrency. */
function rowsAt(scenario: string, o: Measured, b: Measured, same: string): Row[] {
  const ours = o.report;
  const floor = b.report;
  return [
    {
      scenario, metric: "req/s", ours: ours.rate, baseline: floor.rate, unit: "/s",
      target: { text: `≥ ${RATIO_TARGET * 100}% of baseline`, met: ours.rate >= RATIO_TARGET * floor.rate },
      resources: o.resources, baselineResources: b.resources,
      note: `ours ${ours.ok} ok / ${ours.failed} failed, baseline ${floor.ok} ok / ${floor.failed} failed; same 50 consultations in the same order: ${same}`,
    },
    { scenario, metric: "p50", ours: ours.latency.p50, baseline: floor.latency.p50, unit: "ms" },
    { scenario, metric: "p99", ours: ours.latency.p99, baseline: floor.latency.p99, unit: "ms", target: { text: `< ${P99_TARGET_MS} ms`, met: ours.latency.p99 < P99_TARGET_MS } },
  ];
}

/** Both answer with the same consultations in the same order. */
async function sameAnswer(ours: { url: string; headers: Record<string, string>; body: string }, floor: { url: string }): Promise<string> {
  type Page = { data: { consultations: { edges: Array<{ node: { id: string } }> } } };
  const a = (await (await fetch(ours.url, { method: "POST", headers: ours.headers, body: ours.body })).json()) as Page;
  const b = (await (await fetch(floor.url)).json()) as Page;
  const ids = (p: Page) => p.data.consultations.edges.map((e) => e.node.id).join(",");
  return ids(a) === ids(b) && a.data.consultations.edges.length === 50 ? "yes" : "NO";
}

