/**
 * 12. Tracing's cost on the push path: scenario 4's two-instance run (webhooks to A, 1,000
 * dashboards on B, 200 webhooks/s: every event crosses NOTIFY, the whole trace of docs/tracing.md),
 * with tracing off and with it on (OTEL_EXPORTER_OTLP_ENDPOINT at a sink in the harness,
 * lib/span-sink.ts; the default sampler: every trace recorded), alternating off/on, on/off, …
 * so that the shared machine's drift falls on both. "Ours" is tracing on, "baseline" tracing
 * off, each round on fresh instances.
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { seedCareTeams } from "../lib/database.js";
import type { Row, Scenario } from "../lib/context.js";
import { BENCH_JWT_SECRET } from "../lib/processes.js";
import { auditedSubscriptions, framesText, measurePush, wsUrl } from "../lib/push-run.js";
import { startSpanSink } from "../lib/span-sink.js";
import { webhookBatches } from "../lib/webhooks.js";

const DASHBOARDS = Number(process.env.BENCH_PUSH_DASHBOARDS ?? 1000);
const RATE = 200;

export const pushTraced: Scenario = {
  id: 12,
  name: "Push latency, tracing on and off",
  async run(ctx) {
    const seconds = ctx.quick ? 5 : 15;
    const rounds = ctx.quick ? 1 : 2;
    const db = await ctx.newDatabase();
    const sink = await startSpanSink();
    try {
      ctx.log(`seeding ${DASHBOARDS} doctors with a consultation each`);
      const teams = await seedCareTeams(db.sql, DASHBOARDS);
      const tokens = await Promise.all(teams.map((t) => signAccessToken(BENCH_JWT_SECRET, t.doctorUserId, { ttlSeconds: 7200 })));
      const nextWebhooks = webhookBatches(teams);
      const count = RATE * seconds;
      const lg = await ctx.startLoadgen();
      try {
        const runs: Record<"on" | "off", Array<Awaited<ReturnType<typeof measurePush>> & { spans: number }>> = { on: [], off: [] };
        for (let round = 0; round < rounds; round++) {
          for (const mode of round % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const)) {
            ctx.log(`round ${round + 1}, tracing ${mode} (webhooks → A, sockets on B)`);
            const env: Record<string, string> = mode === "on" ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url } : {};
            const [a, b] = await Promise.all([ctx.startApi(db, env, `traced-${mode}-a`), ctx.startApi(db, env, `traced-${mode}-b`)]);
            const before = sink.counts().spans;
            const run = await measurePush(ctx, lg, db, {
              socketsUrl: wsUrl(b.url), tokens, webhooks: nextWebhooks(`${a.url}/webhooks/100ms`, count), perSecond: RATE, receiversPerKey: 1,
              liveSubscriptions: auditedSubscriptions(db), processes: { "api A": a.pid, "api B": b.pid },
            });
            await Promise.all([a.stop(), b.stop()]); // a graceful stop exports what the processors held
            runs[mode].push({ ...run, spans: sink.counts().spans - before });
          }
        }
        return runs.on.flatMap((on, i) => rowsOf(`round ${i + 1}`, on, runs.off[i]!, count));
      } finally {
        await lg.stop();
      }
    } finally {
      await sink.close();
      await db.drop();
    }
  },
};

function rowsOf(label: string, on: Awaited<ReturnType<typeof measurePush>> & { spans: number }, off: Awaited<ReturnType<typeof measurePush>>, webhooks: number): Row[] {
  const scenario = `12 Push, ${DASHBOARDS} dashboards, ${RATE}/s, 2 instances, tracing on (ours) / off (baseline), ${label}`;
  const r = on.report;
  const f = off.report;
  return [
    { scenario, metric: "p50", ours: r.latency.p50, baseline: f.latency.p50, unit: "ms", resources: on.resources, baselineResources: off.resources,
      note: `frames on ${framesText(r)}, off ${framesText(f)}; spans exported ${on.spans} (${(on.spans / webhooks).toFixed(1)} per webhook)` },
    { scenario, metric: "p99", ours: r.latency.p99, baseline: f.latency.p99, unit: "ms" },
    { scenario, metric: "max", ours: r.latency.max, baseline: f.latency.max, unit: "ms" },
  ];
}
