/**
 * 15. Slow database: the API's DATABASE_URL goes through a TCP proxy on loopback that adds a
 * round-trip time (test/support/tcp-proxy.ts `latency`: half each way, in order); the
 * harness's own reads go direct. 400 doctors' dashboards subscribed (`myConsultationEvents`),
 * webhooks at 20/s for distinct consultations (a waiting patient coming and going, each
 * consultation every 20 s), at +50 and +150 ms per round trip. Per latency: push latency from
 * the webhook's 200 to the frame (p50/p99), the applied rate (webhooks ÷ first sent → last
 * applied), and the most unapplied rows seen in the inbox (read direct every 250 ms).
 * Baseline: the same instance through the proxy with no delay added. Then, at +150 ms, the
 * apply as it was before its lanes (WEBHOOK_APPLY_LANES=1: one batch at a time) on a second
 * instance, for the rows that compare the two.
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { startTcpProxy } from "../../support/tcp-proxy.js";
import { seedCareTeams, type BenchDatabase } from "../lib/database.js";
import type { Row, Scenario, ScenarioContext } from "../lib/context.js";
import { BENCH_JWT_SECRET, type Loadgen } from "../lib/processes.js";
import { auditedSubscriptions, framesText, measurePush, whereEventsStopped, wsUrl } from "../lib/push-run.js";
import { webhookBatches } from "../lib/webhooks.js";

const DASHBOARDS = 400;
const RATE = 20;
const LATENCIES_MS = [0, 50, 150];
const TARGET_P99_MS = 2000;

interface SlowRun {
  latencyMs: number;
  p50: number;
  p99: number;
  appliedPerSecond: number | null;
  maxUnapplied: number;
  frames: string;
  delivered: boolean;
  resources: Row["resources"];
}

export const slowDatabase: Scenario = {
  id: 15,
  name: "Slow database",
  sockets: DASHBOARDS,
  async run(ctx) {
    const seconds = ctx.quick ? 10 : 20;
    const db = await ctx.newDatabase();
    const direct = new URL(db.url);
    const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    try {
      const teams = await seedCareTeams(db.sql, DASHBOARDS);
      const tokens = await Promise.all(teams.map((t) => signAccessToken(BENCH_JWT_SECRET, t.doctorUserId, { ttlSeconds: 7200 })));
      const nextWebhooks = webhookBatches(teams);
      const proxied = Object.assign(new URL(db.url), { port: String(proxy.port) }).toString();
      const lg = await ctx.startLoadgen();
      const api = await ctx.startApi({ ...db, url: proxied }, {}, "slow-db");
      try {
        const runs: SlowRun[] = [];
        for (const latencyMs of LATENCIES_MS) {
          ctx.log(`+${latencyMs} ms per round trip`);
          proxy.latency(latencyMs);
          runs.push(await slowRun(ctx, lg, db, latencyMs, { tokens, webhooks: nextWebhooks(`${api.url}/webhooks/100ms`, RATE * seconds), apiUrl: api.url, apiPid: api.pid }));
          proxy.latency(0);
          if (!runs.at(-1)!.delivered) for (const line of await whereEventsStopped(db, [api])) ctx.log(line);
        }
        await api.stop();
        const oneLane = await ctx.startApi({ ...db, url: proxied }, { WEBHOOK_APPLY_LANES: "1" }, "slow-db-one-lane");
        const slowest = LATENCIES_MS.at(-1)!;
        ctx.log(`+${slowest} ms per round trip, one lane (as before)`);
        proxy.latency(slowest);
        const before = await slowRun(ctx, lg, db, slowest, { tokens, webhooks: nextWebhooks(`${oneLane.url}/webhooks/100ms`, RATE * seconds), apiUrl: oneLane.url, apiPid: oneLane.pid });
        proxy.latency(0);
        await oneLane.stop();
        const base = runs[0]!;
        return [...runs.slice(1).flatMap((r) => rowsOf(r, base)), ...lanesRows(runs.at(-1)!, before)];
      } finally {
        await api.stop().catch(() => undefined);
        await lg.stop();
      }
    } finally {
      await proxy.close();
      await db.drop();
    }
  },
};

async function slowRun(
  ctx: ScenarioContext, lg: Loadgen, db: BenchDatabase, latencyMs: number,
  plan: { tokens: string[]; webhooks: Parameters<typeof measurePush>[3]["webhooks"]; apiUrl: string; apiPid: number },
): Promise<SlowRun> {
  const [before] = await db.sql<{ n: number }[]>`select count(*)::int as n from hms_webhook_events where processed_at is not null`;
  const inbox = watchInbox(db, before!.n + plan.webhooks.length);
  try {
    const result = await measurePush(ctx, lg, db, {
      socketsUrl: wsUrl(plan.apiUrl), tokens: plan.tokens, webhooks: plan.webhooks, perSecond: RATE, receiversPerKey: 1,
      liveSubscriptions: auditedSubscriptions(db), processes: { api: plan.apiPid },
      onSending: () => inbox.start(),
    });
    const r = result.report;
    const applied = inbox.stop();
    return {
      latencyMs, p50: r.afterAck.p50, p99: r.afterAck.p99, maxUnapplied: applied.maxUnapplied,
      appliedPerSecond: applied.doneAt === null ? null : plan.webhooks.length / ((applied.doneAt - applied.startedAt) / 1000),
      frames: `frames ${framesText(r)}, acked ${r.acked}/${r.sent} (ack p99 ${r.ackLatency.p99.toFixed(0)} ms), request → frame p99 ${r.latency.p99.toFixed(0)} ms`,
      delivered: r.frames === r.expectedFrames, resources: result.resources,
    };
  } finally {
    inbox.stop();
  }
}

/** Polls the inbox direct: the most unapplied rows seen, and when `processedTarget` rows were processed. */
function watchInbox(db: BenchDatabase, processedTarget: number) {
  let startedAt = 0;
  let doneAt: number | null = null;
  let maxUnapplied = 0;
  let timer: NodeJS.Timeout | null = null;
  const poll = async () => {
    const [row] = await db.sql<{ unapplied: number; processed: number }[]>`
      select (count(*) filter (where processed_at is null))::int as unapplied, (count(*) filter (where processed_at is not null))::int as processed
      from hms_webhook_events`;
    maxUnapplied = Math.max(maxUnapplied, row!.unapplied);
    if (doneAt === null && row!.processed >= processedTarget) doneAt = performance.now();
  };
  return {
    start() {
      startedAt = performance.now();
      timer = setInterval(() => void poll().catch(() => undefined), 250);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
      return { startedAt, doneAt, maxUnapplied };
    },
  };
}

/** The lanes against one batch at a time, at the slowest latency. */
function lanesRows(r: SlowRun, oneLane: SlowRun): Row[] {
  const scenario = `15 Slow database +${r.latencyMs} ms/round trip: 4 lanes (the default) against one (base: WEBHOOK_APPLY_LANES=1)`;
  return [
    { scenario, metric: "ack → frame p99", ours: r.p99, baseline: oneLane.p99, unit: "ms", resources: r.resources, baselineResources: oneLane.resources, note: `one lane: ${oneLane.frames}` },
    { scenario, metric: "applied/s (first sent → last applied)", ours: r.appliedPerSecond, baseline: oneLane.appliedPerSecond, unit: "/s" },
  ];
}

function rowsOf(r: SlowRun, base: SlowRun): Row[] {
  const scenario = `15 Slow database +${r.latencyMs} ms/round trip, ${DASHBOARDS} dashboards, ${RATE}/s (base: +0 ms)`;
  return [
    { scenario, metric: "ack → frame p50", ours: r.p50, baseline: base.p50, unit: "ms", resources: r.resources, baselineResources: base.resources, note: r.frames },
    { scenario, metric: "ack → frame p99", ours: r.p99, baseline: base.p99, unit: "ms", target: { text: `< ${TARGET_P99_MS} ms`, met: r.p99 < TARGET_P99_MS && r.delivered } },
    { scenario, metric: "applied/s (first sent → last applied)", ours: r.appliedPerSecond, baseline: base.appliedPerSecond, unit: "/s",
      target: { text: `≥ ${RATE * 0.9}/s (keeps up)`, met: r.appliedPerSecond !== null && r.appliedPerSecond >= RATE * 0.9 } },
    { scenario, metric: "unapplied in the inbox, most seen", ours: r.maxUnapplied, baseline: base.maxUnapplied, unit: "" },
  ];
}
