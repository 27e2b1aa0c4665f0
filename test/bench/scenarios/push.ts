/**
 * 4. Push latency: 1,000 doctors' dashboards (one socket each, `myConsultationEvents`), and
 * webhooks for their consultations at a steady 200/s (a waiting patient coming and going:
 * one event per webhook). Time from the webhook request start to the frame at the right
 * dashboard, with one API instance, and with two (webhooks to one, sockets on the other,
 * so every event crosses PostgreSQL NOTIFY), and with one instance over the legacy Apollo
 * protocol (graphql_flutter's default) and over Server-Sent Events (/graphql/stream) instead
 * of graphql-ws. Baseline: a bare `ws` server sending the same
 * frames straight from its webhook handler. Each run first sends a second's worth of webhooks
 * over its sockets, not measured (as scenario 5 does): the first two runs start on fresh
 * instances, whose first events are several times slower, and the others on a warm one.
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { seedCareTeams, type CareTeam } from "../lib/database.js";
import type { Row, Scenario } from "../lib/context.js";
import { BENCH_JWT_SECRET } from "../lib/processes.js";
import { auditedSubscriptions, baselineSubscriptions, framesText, measurePush, setupBaseline, sseUrl, wsUrl } from "../lib/push-run.js";
import { webhookBatches } from "../lib/webhooks.js";

const DASHBOARDS = Number(process.env.BENCH_PUSH_DASHBOARDS ?? 1000);
const RATE = 200;
/** Untimed webhooks before each run's timed ones: one second's worth. */
const WARM_UP = RATE;

export const push: Scenario = {
  id: 4,
  name: "Push latency",
  async run(ctx) {
    const seconds = ctx.quick ? 5 : 15;
    const db = await ctx.newDatabase();
    try {
      ctx.log(`seeding ${DASHBOARDS} doctors with a consultation each`);
      const teams = await seedCareTeams(db.sql, DASHBOARDS);
      const tokens = await Promise.all(teams.map((t) => signAccessToken(BENCH_JWT_SECRET, t.doctorUserId, { ttlSeconds: 7200 })));
      /** The next `count` webhooks: round-robin over consultations, so each gets one every 5 s. */
      const nextWebhooks = webhookBatches(teams);
      const count = RATE * seconds;
      const lg = await ctx.startLoadgen();
      try {
        ctx.log("ours, 1 instance");
        const a = await ctx.startApi(db, {}, "push-1");
        const one = await measurePush(ctx, lg, db, {
          socketsUrl: wsUrl(a.url), tokens, warmUp: nextWebhooks(`${a.url}/webhooks/100ms`, WARM_UP), webhooks: nextWebhooks(`${a.url}/webhooks/100ms`, count), perSecond: RATE, receiversPerKey: 1,
          liveSubscriptions: auditedSubscriptions(db), processes: { api: a.pid },
        });
        ctx.log("ours, 1 instance, legacy protocol");
        const legacy = await measurePush(ctx, lg, db, {
          socketsUrl: wsUrl(a.url), tokens, warmUp: nextWebhooks(`${a.url}/webhooks/100ms`, WARM_UP), webhooks: nextWebhooks(`${a.url}/webhooks/100ms`, count), perSecond: RATE, receiversPerKey: 1,
          liveSubscriptions: auditedSubscriptions(db), processes: { api: a.pid }, protocol: "legacy",
        });
        ctx.log("ours, 1 instance, over SSE");
        const overSse = await measurePush(ctx, lg, db, {
          socketsUrl: sseUrl(a.url), tokens, warmUp: nextWebhooks(`${a.url}/webhooks/100ms`, WARM_UP), webhooks: nextWebhooks(`${a.url}/webhooks/100ms`, count), perSecond: RATE, receiversPerKey: 1,
          liveSubscriptions: auditedSubscriptions(db), processes: { api: a.pid },
        });
        await a.stop();

        ctx.log("ours, 2 instances (webhooks → A, sockets on B)");
        const [wa, wb] = await Promise.all([ctx.startApi(db, {}, "push-2a"), ctx.startApi(db, {}, "push-2b")]);
        const two = await measurePush(ctx, lg, db, {
          socketsUrl: wsUrl(wb.url), tokens, warmUp: nextWebhooks(`${wa.url}/webhooks/100ms`, WARM_UP), webhooks: nextWebhooks(`${wa.url}/webhooks/100ms`, count), perSecond: RATE, receiversPerKey: 1,
          liveSubscriptions: auditedSubscriptions(db), processes: { "api A": wa.pid, "api B": wb.pid },
        });
        await Promise.all([wa.stop(), wb.stop()]);

        ctx.log("baseline: bare ws server");
        const base = await ctx.startBaseline(db);
        const floor = await (async () => {
          try {
            await setupBaseline(base, roomsOf(teams), []);
            return await measurePush(ctx, lg, db, {
              socketsUrl: wsUrl(base.url), tokens, warmUp: nextWebhooks(`${base.url}/push`, WARM_UP), webhooks: nextWebhooks(`${base.url}/push`, count), perSecond: RATE, receiversPerKey: 1,
              liveSubscriptions: baselineSubscriptions(base), processes: { baseline: base.pid },
            });
          } finally {
            await base.stop();
          }
        })();

        const rows: Row[] = [];
        for (const [label, run] of [["1 instance", one], ["2 instances", two], ["1 instance, legacy protocol", legacy], ["1 instance, SSE", overSse]] as const) {
          const scenario = `4 Push, ${DASHBOARDS} dashboards, ${RATE}/s, ${label}`;
          const r = run.report;
          const f = floor.report;
          rows.push(
            { scenario, metric: "p50", ours: r.latency.p50, baseline: f.latency.p50, unit: "ms", resources: run.resources, baselineResources: floor.resources,
              note: `frames ${framesText(r)} (unexpected ${r.unexpectedFrames}), webhooks acked ${r.acked}/${r.sent} (ack p99 ${r.ackLatency.p99.toFixed(1)} ms), sender worst lateness ${r.senderLateMs.toFixed(0)} ms; baseline frames ${f.frames}/${f.expectedFrames}` },
            { scenario, metric: "p99", ours: r.latency.p99, baseline: f.latency.p99, unit: "ms", target: { text: "< 50 ms", met: r.latency.p99 < 50 && r.frames === r.expectedFrames } },
            { scenario, metric: "max", ours: r.latency.max, baseline: f.latency.max, unit: "ms" },
            { scenario, metric: "ack → frame p99", ours: r.afterAck.p99, baseline: f.afterAck.p99, unit: "ms",
              note: `delivery alone: from the webhook's 200 to the frame (negative = frame before the 200); ours p50 ${r.afterAck.p50.toFixed(1)} ms, baseline p50 ${f.afterAck.p50.toFixed(1)} ms` },
          );
        }
        return rows;
      } finally {
        await lg.stop();
      }
    } finally {
      await db.drop();
    }
  },
};

export function roomsOf(teams: readonly CareTeam[]) {
  return Object.fromEntries(teams.map((t) => [t.roomId, { consultationId: t.consultationId, doctorUserId: t.doctorUserId }]));
}
