/**
 * 1. Webhook ingest: authentic peer.join/leave webhooks (whole calls: patient joins, doctor
 * joins, doctor leaves, patient leaves) for seeded consultations, fixed concurrency, against
 * POST /webhooks/100ms. Each is stored and acknowledged, then applied (presence, lifecycle,
 * event log, NOTIFY) in batches by the API's webhook queue: besides the ack rate, the time
 * until every measured webhook is applied gives the applied rate. Baseline: one
 * INSERT … ON CONFLICT DO NOTHING of the raw body. At c=16 and c=64, each against the
 * baseline at the same concurrency.
 */
import type { Sql } from "postgres";
import type { HmsWebhook } from "../../support/hms-webhooks.js";
import { seedCareTeams, type CareTeam } from "../lib/database.js";
import type { Row, Scenario } from "../lib/context.js";
import type { LoopReport } from "../loadgen.js";
import { countStatements } from "../lib/statements.js";
import { callWebhooks, patientWebhook, webhookRequest } from "../lib/webhooks.js";
import { DASHBOARD_SUBSCRIPTION } from "../lib/push-run.js";

/** Each concurrency gets its own consultations (and baseline ids), measured against the baseline at the same concurrency. */
const CONCURRENCIES = [16, 64];
const TARGETS = { accepted: 0.7, applied: 0.5, ackP99Ms: 25 };

type Bodies = { warm: HmsWebhook[]; measured: HmsWebhook[] };
type Measured = { ours: LoopReport; appliedRate: number | null; backlog: { done: boolean; left: number }; resources: Row["resources"] };

export const ingest: Scenario = {
  id: 1,
  name: "Webhook ingest",
  async run(ctx) {
    const requests = ctx.quick ? 1000 : 4000;
    const warmup = 400;
    const db = await ctx.newDatabase();
    try {
      const perRun = (requests + warmup) / 4;
      ctx.log(`seeding ${perRun * CONCURRENCIES.length} consultations`);
      const teams = await seedCareTeams(db.sql, perRun * CONCURRENCIES.length);
      const start = new Date();
      const runs = CONCURRENCIES.map((_, k) => bodiesOf(teams.slice(k * perRun, (k + 1) * perRun), start, warmup));

      const api = await ctx.startApi(db);
      const lg = await ctx.startLoadgen();
      const base = await ctx.startBaseline(db);
      try {
        const apiUrl = `${api.url}/webhooks/100ms`;
        const loop = (bodies: HmsWebhook[], concurrency: number, url: string, tag?: string) =>
          lg.call<LoopReport>("closedLoop", {
            requests: bodies.map((b) => webhookRequest(url, tag ? { ...b, id: `${tag}-${b.id}` } : b)),
            concurrency,
            maxRequests: bodies.length,
            maxSeconds: 60,
            accept: "webhook-accepted",
          });
        const ours: Measured[] = [];
        for (const [k, concurrency] of CONCURRENCIES.entries()) {
          const { warm, measured } = runs[k]!;
          await loop(warm, concurrency, apiUrl);
          ctx.log(`ours: ${measured.length} webhooks at concurrency ${concurrency}`);
          await waitApplied(db.sql, 30_000);
          const sampler = await ctx.sample({ api: api.pid, loadgen: lg.pid }, db);
          const startedAt = performance.now();
          const report = await loop(measured, concurrency, apiUrl);
          const backlog = await waitApplied(db.sql, 60_000);
          const appliedRate = backlog.done ? report.ok / ((performance.now() - startedAt) / 1000) : null;
          ours.push({ ours: report, appliedRate, backlog, resources: await sampler.stop() });
        }
        const [applied] = await db.sql<{ n: number }[]>`select count(*)::int as n from hms_webhook_events where outcome = 'applied'`;
        const [events] = await db.sql<{ n: number }[]>`select count(*)::int as n from consultation_events`;
        await api.stop();

        const baseUrl = `${base.url}/ingest`;
        const floors: Array<{ floor: LoopReport; resources: Row["resources"] }> = [];
        for (const [k, concurrency] of CONCURRENCIES.entries()) {
          const { warm, measured } = runs[k]!;
          await loop(warm, concurrency, baseUrl, `w${concurrency}`);
          ctx.log(`baseline: ${measured.length} raw inserts at concurrency ${concurrency}`);
          const sampler = await ctx.sample({ baseline: base.pid, loadgen: lg.pid }, db);
          const floor = await loop(measured, concurrency, baseUrl, `m${concurrency}`);
          floors.push({ floor, resources: await sampler.stop() });
        }

        ctx.log("counting SQL statements per webhook (in-process API with onQuery)");
        const [probe] = await seedCareTeams(db.sql, 1);
        const statements = await countStatements<{ inRequest: number; toApply: number; toDeliver: number }>(db.url, {
          BENCH_MODE: "webhook",
          BENCH_USER_ID: probe!.doctorUserId,
          BENCH_WEBHOOKS: JSON.stringify([patientWebhook(probe!, 0, start), patientWebhook(probe!, 1, start)]),
          BENCH_SUBSCRIPTION: DASHBOARD_SUBSCRIPTION,
        }).catch((error: Error) => {
          ctx.log(`statement count failed: ${error.message}`);
          return null;
        });
        const totals = `${applied!.n} applied in total, ${events!.n} events logged`;
        const rows = CONCURRENCIES.flatMap((concurrency, k) => rowsOf(concurrency, runs[k]!.measured.length, ours[k]!, floors[k]!, totals));
        return [...rows, statementsRow(`1 Webhook ingest (c=${CONCURRENCIES[0]}, ${runs[0]!.measured.length} req)`, statements)] satisfies Row[];
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

/** A whole call per consultation, round-robin over consultations: the 4 webhooks of one call are ~N/4 requests apart. */
function bodiesOf(teams: readonly CareTeam[], start: Date, warmup: number): Bodies {
  const bodies = teams.flatMap((team) => callWebhooks(team, start));
  const ordered = [0, 1, 2, 3].flatMap((k) => teams.map((_, i) => bodies[i * 4 + k]!));
  return {
    warm: ordered.filter((_, i) => i % teams.length < warmup / 4),
    measured: ordered.filter((_, i) => i % teams.length >= warmup / 4),
  };
}

function rowsOf(concurrency: number, count: number, m: Measured, base: { floor: LoopReport; resources: Row["resources"] }, totals: string): Row[] {
  const scenario = `1 Webhook ingest (c=${concurrency}, ${count} req)`;
  const { ours, appliedRate, backlog } = m;
  const { floor } = base;
  const note = `ours: ${ours.ok} accepted, ${ours.failed} failed ${JSON.stringify(ours.failures)}; ${totals}`;
  const pct = (x: number) => `≥ ${Math.round(x * 100)}% of baseline`;
  return [
    { scenario, metric: "accepted/s", ours: ours.rate, baseline: floor.rate, unit: "/s", target: { text: pct(TARGETS.accepted), met: ours.rate >= TARGETS.accepted * floor.rate }, resources: m.resources, baselineResources: base.resources, note },
    {
      scenario, metric: "applied/s (acked → in the log → pushed)", ours: appliedRate, baseline: floor.rate, unit: "/s",
      target: { text: pct(TARGETS.applied), met: appliedRate !== null && appliedRate >= TARGETS.applied * floor.rate },
      note: backlog.done ? "until the last measured webhook was applied (its event logged and NOTIFY sent, in the same commit)" : `not all applied within 60 s (${backlog.left} left)`,
    },
    { scenario, metric: "ack p50", ours: ours.latency.p50, baseline: floor.latency.p50, unit: "ms" },
    { scenario, metric: "ack p99", ours: ours.latency.p99, baseline: floor.latency.p99, unit: "ms", target: { text: `< ${TARGETS.ackP99Ms} ms`, met: ours.latency.p99 < TARGETS.ackP99Ms } },
  ];
}

function statementsRow(scenario: string, statements: { inRequest: number; toApply: number; toDeliver: number } | null): Row {
  return {
    scenario, metric: "SQL statements/webhook", ours: statements?.inRequest ?? null, baseline: 1, unit: "",
    oursText: statements ? `${statements.inRequest} (+${statements.toApply} to apply, +${statements.toDeliver} to deliver)` : "n/a",
    note: "a waiting patient's join sent alone (a batch of one), counted in-process with openDatabase's onQuery, BEGIN/COMMIT not included; " +
      "the first figure runs until the client has the 200 (the inbox INSERT, and the batch's first statement when it starts before the client reads the answer); " +
      "'to apply' = the rest of the queue's batch; 'to deliver' = until one subscribed dashboard has the frame (the hub's read of the log, the event's data)",
  };
}

/** Polls until the inbox has no unprocessed row (or the bound passes). */
async function waitApplied(sql: Sql, boundMs: number): Promise<{ done: boolean; left: number }> {
  const until = performance.now() + boundMs;
  for (;;) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from hms_webhook_events where processed_at is null`;
    if (row!.n === 0) return { done: true, left: 0 };
    if (performance.now() > until) return { done: false, left: row!.n };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
