/**
 * 8. Reconnect storm: N doctors' dashboards (`myConsultationEvents`) on instance A, webhooks
 * for their consultations flowing through instance B at 200/s; 2 s in, A is SIGKILLed. Every
 * client reconnects to B with graphql-ws's backoff (1 s + 0.3–3 s jitter) and resumes with
 * `after` = the last event id it saw. Reported: kill → the last client caught up (it holds
 * every event acknowledged before its resubscribe), frames missed and duplicated, failed
 * reconnects and unexpected close codes, at 1,000 and 5,000 sockets (200 and 1,000 with --quick).
 *
 * Baseline: the backoff floor of the same run, i.e. kill → the last client's first reconnect
 * attempt. No server can do better, and a bare `ws` server reconnecting the same sockets would
 * measure mostly that same jitter (it has no log to replay), so it is not run.
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { decodeEventId, encodeEventId } from "../../../src/consultations/event-cursor.js";
import { seedCareTeams, type BenchDatabase, type CareTeam } from "../lib/database.js";
import { waitForCount, type Row, type Scenario, type ScenarioContext } from "../lib/context.js";
import { BENCH_JWT_SECRET, type Loadgen } from "../lib/processes.js";
import { auditedSubscriptions, DASHBOARD_SUBSCRIPTION, wsUrl } from "../lib/push-run.js";
import { webhookBatches } from "../lib/webhooks.js";
import type { StormReport } from "../lib/storm-clients.js";

const STEPS = [1000, 5000];
const QUICK_STEPS = [200, 1000];
const RATE = 200;
const KILL_AFTER_MS = 2000;
const TARGET_S = 10;

export const storm: Scenario = {
  id: 8,
  name: "Reconnect storm",
  sockets: STEPS.at(-1)!,
  async run(ctx) {
    const steps = ctx.quick ? QUICK_STEPS : STEPS;
    const db = await ctx.newDatabase();
    try {
      ctx.log(`seeding ${steps.at(-1)} doctors`);
      const teams = await seedCareTeams(db.sql, steps.at(-1)!);
      const tokens = await Promise.all(teams.map((t) => signAccessToken(BENCH_JWT_SECRET, t.doctorUserId, { ttlSeconds: 7200 })));
      const lg = await ctx.startLoadgen();
      try {
        const rows: Row[] = [];
        // The steps share teams: each team's presence rounds continue from the previous step.
        const webhooks = { start: new Date(), rounds: new Map<string, number>() };
        for (const n of steps) rows.push(...(await stormStep(ctx, lg, db, teams.slice(0, n), tokens.slice(0, n), webhooks)));
        return rows;
      } finally {
        await lg.stop();
      }
    } finally {
      await db.drop();
    }
  },
};

async function stormStep(
  ctx: ScenarioContext, lg: Loadgen, db: BenchDatabase, teams: CareTeam[], tokens: string[],
  history: { start: Date; rounds: Map<string, number> },
): Promise<Row[]> {
  const n = teams.length;
  ctx.log(`${n} dashboards on A, webhooks through B`);
  const [a, b] = await Promise.all([ctx.startApi(db, {}, `storm-${n}-a`), ctx.startApi(db, {}, `storm-${n}-b`)]);
  try {
    const tag = `storm-${n}`;
    const [latest] = await db.sql<{ id: string }[]>`select coalesce(max(id), 0)::text as id from consultation_events`;
    const live = auditedSubscriptions(db);
    const before = await live();
    const opened = await lg.call<{ opened: number; failures: string[] }>("stormOpen", {
      tag, url: wsUrl(a.url), tokens, keys: teams.map((t) => t.consultationId), query: DASHBOARD_SUBSCRIPTION,
      initialAfter: encodeEventId(Number(latest!.id)), concurrency: 50,
    });
    if (opened.failures.length) ctx.log(`  ${n - opened.opened} failed to open: ${opened.failures.join("; ")}`);
    await waitForCount(async () => (await live()) - before, opened.opened, 120_000);
    // Enough webhooks to keep flowing through the whole storm: 2 s before the kill, 10 s after.
    const count = RATE * (KILL_AFTER_MS / 1000 + 10);
    const webhooks = webhookBatches(teams, history.start, history.rounds)(`${b.url}/webhooks/100ms`, count);
    ctx.log(`  ${opened.opened} subscribed; ${count} webhooks at ${RATE}/s to B, SIGKILL A after ${KILL_AFTER_MS} ms`);
    const sampler = await ctx.sample({ "api B": b.pid, loadgen: lg.pid }, db);
    const report = await lg.call<StormReport>("stormRun", {
      tag, webhooks, perSecond: RATE, killPid: a.pid, killAfterMs: KILL_AFTER_MS, reconnectUrl: wsUrl(b.url), drainSeconds: 30,
    });
    const resources = await sampler.stop();
    await lg.call("stormClose", { tag });
    if (report.incomplete) {
      ctx.log(`  ${report.incomplete} clients short of frames, e.g. ${report.incompleteSample.join("; ")}`);
      ctx.log(`  of ${report.incompleteCursors.length} of them, ${await inLogAfter(db, report.incompleteCursors)} events are in the log after their cursor (written, not delivered)`);
    }
    ctx.log(`  caught up ${report.caughtUpMs === null ? "never" : `${(report.caughtUpMs / 1000).toFixed(1)} s`} after the kill (backoff floor ${(report.backoffFloorMs / 1000).toFixed(1)} s); ` +
      `frames ${report.frames}/${report.expectedFrames}, missed ${report.missed}, duplicates ${report.duplicates}, not reconnected ${report.notReconnected}`);
    return stormRows(n, report, resources);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

function stormRows(n: number, r: StormReport, resources: Row["resources"]): Row[] {
  const scenario = `8 Reconnect storm, ${n.toLocaleString("en-US")} dashboards, A killed, resume on B`;
  const errorCount = Object.values(r.errors).reduce((x, y) => x + y, 0);
  const closeCount = Object.values(r.closeCodes).reduce((x, y) => x + y, 0);
  const clean = r.missed === 0 && r.duplicates === 0 && r.notReconnected === 0 && errorCount === 0 && closeCount === 0 && r.acked === r.sent;
  return [
    { scenario, metric: "kill → all caught up", ours: r.caughtUpMs === null ? null : r.caughtUpMs / 1000, oursText: r.caughtUpMs === null ? "never" : undefined, baseline: r.backoffFloorMs / 1000, unit: "s", resources,
      target: { text: `< ${TARGET_S} s, 0 missed/dup/errors`, met: r.caughtUpMs !== null && r.caughtUpMs < TARGET_S * 1000 && clean },
      note: `storm ${n}: baseline = graphql-ws backoff floor (kill → the last client's first attempt); frames ${r.frames}/${r.expectedFrames}; ` +
        `webhooks acked ${r.acked}/${r.sent} ${JSON.stringify(r.ackFailures)}; not reconnected ${r.notReconnected}; ` +
        `close codes besides 1006 ${JSON.stringify(r.closeCodes)}; ${r.incomplete} clients short of frames (e.g. ${r.incompleteSample.join("; ")}); errors ${JSON.stringify(r.errors).slice(0, 300)}` },
    { scenario, metric: "frames missed", ours: r.missed, baseline: null, unit: "", target: { text: "0", met: r.missed === 0 } },
    { scenario, metric: "duplicate frames", ours: r.duplicates, baseline: null, unit: "", target: { text: "0", met: r.duplicates === 0 } },
    { scenario, metric: "errors + close codes ≠ 1006", ours: errorCount + closeCount, baseline: null, unit: "", target: { text: "0", met: errorCount + closeCount === 0 } },
  ];
}

/** How many events the log holds after each client's cursor for its consultation: written but not delivered. */
async function inLogAfter(db: BenchDatabase, cursors: ReadonlyArray<{ key: string; after: string }>): Promise<number> {
  if (cursors.length === 0) return 0;
  const [row] = await db.sql<{ n: number }[]>`
    select count(*)::int as n from consultation_events e
    join unnest(${cursors.map((c) => c.key)}::uuid[], ${cursors.map((c) => decodeEventId(c.after))}::bigint[]) as t(c, after)
      on e.consultation_id = t.c and e.id > t.after`;
  return row!.n;
}
