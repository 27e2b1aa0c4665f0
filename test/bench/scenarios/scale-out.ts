/**
 * 11. Scale-out on one PostgreSQL: 1, 2 and 4 API instances; 1,000 doctors' dashboards
 * (300 with --quick) dealt round-robin over them, webhooks at 200/s, each to an instance
 * other than the one holding its dashboard (so every event crosses through NOTIFY). Per instance count: events/s
 * delivered, push p99, PostgreSQL CPU (ResourceSampler), the NOTIFY rate (a LISTEN of the
 * harness on the hub's channel counts them) and the bench database's connections
 * (pg_stat_activity, the most seen). Baseline: the 1-instance run of the same invocation,
 * so the ratio says what each added instance costs.
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { EVENTS_CHANNEL } from "../../../src/live/event-log.repo.js";
import { HARNESS_APPLICATION, seedCareTeams, type BenchDatabase } from "../lib/database.js";
import type { Row, Scenario, ScenarioContext } from "../lib/context.js";
import { BENCH_JWT_SECRET, type Loadgen } from "../lib/processes.js";
import { auditedSubscriptions, framesText, measurePush, whereEventsStopped, wsUrl, type PushPlan } from "../lib/push-run.js";
import { webhookBatches } from "../lib/webhooks.js";

const INSTANCES = [1, 2, 4];
const RATE = 200;

interface ScaleRun {
  instances: number;
  delivered: number;
  p99: number;
  frames: string;
  notifyPerSecond: number;
  connections: number;
  resources: Row["resources"];
}

export const scaleOut: Scenario = {
  id: 11,
  name: "Scale-out",
  async run(ctx) {
    const dashboards = ctx.quick ? 300 : 1000;
    const seconds = ctx.quick ? 5 : 10;
    const db = await ctx.newDatabase();
    try {
      const teams = await seedCareTeams(db.sql, dashboards);
      const tokens = await Promise.all(teams.map((t) => signAccessToken(BENCH_JWT_SECRET, t.doctorUserId, { ttlSeconds: 7200 })));
      const batches = webhookBatches(teams);
      const indexOf = new Map(teams.map((t, i) => [t.consultationId, i]));
      // Dashboard i is on instance i mod n (measurePush deals tokens so): its webhooks go to the next one.
      const nextWebhooks = (urls: string[]) =>
        batches("", RATE * seconds).map((w) => ({ ...w, spec: { ...w.spec, url: `${urls[(indexOf.get(w.key)! + 1) % urls.length]}/webhooks/100ms` } }));
      const lg = await ctx.startLoadgen();
      try {
        const runs: ScaleRun[] = [];
        for (const n of INSTANCES) runs.push(await scaleRun(ctx, lg, db, n, tokens, nextWebhooks));
        const one = runs[0]!;
        return runs.flatMap((r) => {
          const scenario = `11 Scale-out, ${dashboards} dashboards, ${RATE}/s, ${r.instances} instance${r.instances > 1 ? "s" : ""} (base: 1 instance)`;
          return [
            { scenario, metric: "events/s delivered", ours: r.delivered, baseline: one.delivered, unit: "/s", resources: r.resources, note: `frames ${r.frames}` },
            { scenario, metric: "push p99", ours: r.p99, baseline: one.p99, unit: "ms", target: { text: "< 50 ms", met: r.p99 < 50 } },
            { scenario, metric: "NOTIFY/s", ours: r.notifyPerSecond, baseline: one.notifyPerSecond, unit: "/s" },
            { scenario, metric: "pg connections (bench db, max)", ours: r.connections, baseline: one.connections, unit: "" },
          ] satisfies Row[];
        });
      } finally {
        await lg.stop();
      }
    } finally {
      await db.drop();
    }
  },
};

async function scaleRun(
  ctx: ScenarioContext, lg: Loadgen, db: BenchDatabase, n: number, tokens: string[],
  nextWebhooks: (urls: string[]) => PushPlan["webhooks"],
): Promise<ScaleRun> {
  ctx.log(`${n} instance(s)`);
  const apis = await Promise.all(Array.from({ length: n }, (_, i) => ctx.startApi(db, {}, `scale-${n}-${i}`)));
  let notifications = 0;
  let connections = 0;
  const listening = await db.sql.listen(EVENTS_CHANNEL, () => void notifications++);
  const counting = setInterval(() => {
    void db.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = ${db.name} and application_name <> ${HARNESS_APPLICATION}`.then(([row]) => {
      connections = Math.max(connections, row!.n);
    }, () => undefined);
  }, 500);
  try {
    const urls = apis.map((a) => a.url);
    const webhooks = nextWebhooks(urls);
    // Nothing writes events before the webhooks: every notification counted is theirs.
    notifications = 0;
    const result = await measurePush(ctx, lg, db, {
      socketsUrl: urls.map(wsUrl), tokens, webhooks, perSecond: RATE, receiversPerKey: 1, liveSubscriptions: auditedSubscriptions(db),
      processes: Object.fromEntries(apis.map((a, i) => [`api ${i + 1}`, a.pid])),
    });
    const r = result.report;
    if (r.frames < r.expectedFrames) for (const line of await whereEventsStopped(db, apis)) ctx.log(line);
    return {
      instances: n, delivered: r.frames / r.sendSeconds, p99: r.latency.p99, notifyPerSecond: notifications / r.sendSeconds, connections, resources: result.resources,
      frames: `${framesText(r)}, ${notifications} NOTIFYs for ${r.sent} webhooks`,
    };
  } finally {
    clearInterval(counting);
    await listening.unlisten();
    await Promise.all(apis.map((a) => a.stop()));
  }
}
