/**
 * 6. Idle capacity: resident memory per subscribed dashboard socket at 1,000 and 5,000
 * sockets: VmRSS of the server process (/proc/<pid>/status) before any socket, then after
 * each step, once every subscription is live and the process has settled. Baseline: a bare
 * `ws` server holding the same sockets (handshake and subscription, nothing else).
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { heapDiff, heapSnapshot } from "../heap-diff.js";
import { seedCareTeams } from "../lib/database.js";
import { sleep, waitForCount, type Row, type Scenario, type ScenarioContext } from "../lib/context.js";
import { BENCH_JWT_SECRET, type Loadgen, type ServerProcess } from "../lib/processes.js";
import { auditedSubscriptions, baselineSubscriptions, DASHBOARD_SUBSCRIPTION, wsUrl } from "../lib/push-run.js";
import { median } from "../lib/stats.js";
import { rssKb } from "../lib/resources.js";
import type { SocketsReport } from "../loadgen.js";

const STEPS = [1000, 5000];

export const idle: Scenario = {
  id: 6,
  name: "Idle capacity",
  sockets: STEPS.at(-1)!,
  async run(ctx) {
    const db = await ctx.newDatabase();
    try {
      ctx.log(`seeding ${STEPS.at(-1)} doctors`);
      const teams = await seedCareTeams(db.sql, STEPS.at(-1)!);
      const tokens = await Promise.all(teams.map((t) => signAccessToken(BENCH_JWT_SECRET, t.doctorUserId, { ttlSeconds: 7200 })));
      const lg = await ctx.startLoadgen();
      try {
        ctx.log("ours");
        const api = await ctx.startApi(db, {}, "idle");
        const ours = await holdSockets(ctx, lg, api, tokens, auditedSubscriptions(db)).finally(() => api.stop());
        ctx.log("baseline");
        const base = await ctx.startBaseline(db);
        const floor = await holdSockets(ctx, lg, base, tokens, baselineSubscriptions(base)).finally(() => base.stop());
        return STEPS.map((n, i) => ({
          scenario: `6 Idle memory per subscribed socket`,
          metric: `KB/socket at ${n.toLocaleString("en-US")}`,
          ours: ours.perSocketKb[i]!,
          baseline: floor.perSocketKb[i]!,
          unit: "KB",
          ...(n === 5000 ? { target: { text: "≤ 30 KB at 5,000", met: ours.perSocketKb[i]! <= 30 } } : {}),
          note: i === 0
            ? (heapLines.length ? `heap snapshots (API): ${heapLines.join(" | ").replace(/\s+/g, " ")}; ` : "") + `RSS ours ${ours.rss.map((kb) => `${(kb / 1024).toFixed(0)} MB`).join(" → ")}, baseline ${floor.rss.map((kb) => `${(kb / 1024).toFixed(0)} MB`).join(" → ")}; sockets open at the end: ours ${ours.openAtEnd}, baseline ${floor.openAtEnd}`
            : undefined,
        })) satisfies Row[];
      } finally {
        await lg.stop();
      }
    } finally {
      await db.drop();
    }
  },
};

const heapLines: string[] = [];

async function settledRss(pid: number): Promise<number> {
  await sleep(2000);
  const reads: number[] = [];
  for (let i = 0; i < 5; i++) {
    reads.push(rssKb(pid));
    await sleep(300);
  }
  return median(reads);
}

async function holdSockets(ctx: ScenarioContext, lg: Loadgen, server: ServerProcess, tokens: string[], live: () => Promise<number>) {
  const tag = `idle-${server.pid}`;
  const rss = [await settledRss(server.pid)];
  const snapshots: string[] = [];
  if (server.heapDir) snapshots.push(await heapSnapshot(server));
  let opened = 0;
  for (const n of STEPS) {
    const report = await lg.call<SocketsReport>("openSockets", { tag, url: wsUrl(server.url), tokens: tokens.slice(opened, n), query: DASHBOARD_SUBSCRIPTION, concurrency: 50 });
    if (report.failures.length) ctx.log(`  ${report.failures.length} sockets failed: ${report.failures.join("; ")}`);
    opened = n;
    await waitForCount(live, n, 120_000);
    rss.push(await settledRss(server.pid));
    if (server.heapDir && snapshots.length < 2) snapshots.push(await heapSnapshot(server));
    ctx.log(`  ${n} sockets: RSS ${(rss.at(-1)! / 1024).toFixed(0)} MB (was ${(rss[0]! / 1024).toFixed(0)} MB with none)`);
  }
  const state = await lg.call<{ open: number }>("socketState", { tag });
  if (server.heapDir) {
    heapLines.push(...heapDiff(snapshots[0]!, snapshots[1]!, STEPS[0]!));
    for (const line of heapLines) ctx.log(line);
  }
  await lg.call("closeSockets", { tag });
  return { rss, perSocketKb: STEPS.map((n, i) => (rss[i + 1]! - rss[0]!) / n), openAtEnd: state.open };
}
