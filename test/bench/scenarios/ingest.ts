/**
 * 1. Webhook ingest: authentic peer.join/leave webhooks (whole calls: patient joins, doctor
 * joins, doctor leaves, patient leaves) for seeded consultations, fixed concurrency, against
 * POST /webhooks/100ms. Each is stored and acknowledged, then applied (presence, lifecycle,
 * event log, NOTIFY) in batches by the API's webhook queue: besides the ack rate, the time
 * until every measured webhook is applied gives the applied rate. Baseline: one
 * INSERT … ON CONFLICT DO NOTHING of the raw body.
 */
import type { Sql } from "postgres";
import { seedCareTeams } from "../lib/database.js";
import type { Row, Scenario } from "../lib/context.js";
import type { LoopReport } from "../loadgen.js";
import { countStatements } from "../lib/statements.js";
import { callWebhooks, patientWebhook, webhookRequest } from "../lib/webhooks.js";
import { DASHBOARD_SUBSCRIPTION } from "../lib/push-run.js";

const CONCURRENCY = 16;

export const ingest: Scenario = {
  id: 1,
  name: "Webhook ingest",
  async run(ctx) {
    const requests = ctx.quick ? 1000 : 4000;
    const warmup = 400;
    const db = await ctx.newDatabase();
    try {
      ctx.log(`seeding ${(requests + warmup) / 4} consultations`);
      const teams = await seedCareTeams(db.sql, (requests + warmup) / 4);
      const start = new Date();
      const bodies = teams.flatMap((team) => callWebhooks(team, start));
      // Round-robin over consultations: the 4 webhooks of one call are ~N/4 requests apart.
      const ordered = [0, 1, 2, 3].flatMap((k) => teams.map((_, i) => bodies[i * 4 + k]!));
      const warm = ordered.filter((_, i) => i % teams.length < warmup / 4);
      const measured = ordered.filter((_, i) => i % teams.length >= warmup / 4);

      const api = await ctx.startApi(db);
      const lg = await ctx.startLoadgen();
      const base = await ctx.startBaseline(db);
      try {
        const apiUrl = `${api.url}/webhooks/100ms`;
        await lg.call("closedLoop", { requests: warm.map((b) => webhookRequest(apiUrl, b)), concurrency: CONCURRENCY, maxRequests: warm.length, maxSeconds: 30, accept: "webhook-accepted" });
        ctx.log(`ours: ${measured.length} webhooks at concurrency ${CONCURRENCY}`);
        await waitApplied(db.sql, 30_000);
        const sampler = await ctx.sample({ api: api.pid, loadgen: lg.pid }, db);
        const startedAt = performance.now();
        const ours = await lg.call<LoopReport>("closedLoop", {
          requests: measured.map((b) => webhookRequest(apiUrl, b)),
          concurrency: CONCURRENCY,
          maxRequests: measured.length,
          maxSeconds: 60,
          accept: "webhook-accepted",
        });
        const backlog = await waitApplied(db.sql, 60_000);
        const appliedRate = backlog.done ? ours.ok / ((performance.now() - startedAt) / 1000) : null;
        const oursResources = await sampler.stop();
        const [applied] = await db.sql<{ n: number }[]>`select count(*)::int as n from hms_webhook_events where outcome = 'applied'`;
        const [events] = await db.sql<{ n: number }[]>`select count(*)::int as n from consultation_events`;
        await api.stop();

        const baseUrl = `${base.url}/ingest`;
        const rewrite = (body: (typeof measured)[number], tag: string) => webhookRequest(baseUrl, { ...body, id: `${tag}-${body.id}` });
        await lg.call("closedLoop", { requests: warm.map((b) => rewrite(b, "w")), concurrency: CONCURRENCY, maxRequests: warm.length, maxSeconds: 30, accept: "webhook-accepted" });
        ctx.log(`baseline: ${measured.length} raw inserts at concurrency ${CONCURRENCY}`);
        const baseSampler = await ctx.sample({ baseline: base.pid, loadgen: lg.pid }, db);
        const floor = await lg.call<LoopReport>("closedLoop", {
          requests: measured.map((b) => rewrite(b, "m")),
          concurrency: CONCURRENCY,
          maxRequests: measured.length,
          maxSeconds: 60,
          accept: "webhook-accepted",
        });
        const baseResources = await baseSampler.stop();

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
        const scenario = `1 Webhook ingest (c=${CONCURRENCY}, ${measured.length} req)`;
        const note =
          `ours: ${ours.ok} accepted, ${ours.failed} failed ${JSON.stringify(ours.failures)}; ${applied!.n} applied in total, ${events!.n} events logged`;
        return [
          { scenario, metric: "accepted/s", ours: ours.rate, baseline: floor.rate, unit: "/s", target: { text: "≥ 50% of baseline", met: ours.rate >= 0.5 * floor.rate }, resources: oursResources, baselineResources: baseResources, note },
          {
            scenario, metric: "applied/s (acked → in the log)", ours: appliedRate, baseline: floor.rate, unit: "/s",
            note: backlog.done ? "until the last measured webhook was applied" : `not all applied within 60 s (${backlog.left} left)`,
          },
          { scenario, metric: "ack p50", ours: ours.latency.p50, baseline: floor.latency.p50, unit: "ms" },
          { scenario, metric: "ack p99", ours: ours.latency.p99, baseline: floor.latency.p99, unit: "ms", target: { text: "< 50 ms", met: ours.latency.p99 < 50 } },
          {
            scenario, metric: "SQL statements/webhook", ours: statements?.inRequest ?? null, baseline: 1, unit: "",
            oursText: statements ? `${statements.inRequest} (+${statements.toApply} to apply, +${statements.toDeliver} to deliver)` : "n/a",
            note: "a waiting patient's join sent alone (a batch of one), counted in-process with openDatabase's onQuery, BEGIN/COMMIT not included; " +
              "the first figure runs until the client has the 200 (the inbox INSERT, and the batch's first statement when it starts before the client reads the answer); " +
              "'to apply' = the rest of the queue's batch; 'to deliver' = until one subscribed dashboard has the frame (the hub's read of the log, the event's data)",
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
