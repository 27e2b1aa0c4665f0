/**
 * 10. Soak: 2,000 doctors' dashboards (500 with --quick) and webhooks at half the
 * sustainable rate (100/s: see SOAK_RATE) for `--soak=<minutes>` (default 2, 0.5 with --quick; 0 skips it). Every 5 s the API's
 * RSS (/proc) and V8 heap used (prom-client's `nodejs_heap_size_used_bytes` on /metrics) are
 * sampled after a 15-s warm-up at the same rate; reported are their least-squares slopes
 * (MB/min), p99 per minute, and every event delivered (frames received vs expected). Baseline: none (a trend has no floor); the
 * bound is on the slopes. With `--heap`, heap snapshots after the warm-up and at the end say
 * what grew, per minute.
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { heapDiff, heapSnapshot } from "../heap-diff.js";
import { seedCareTeams } from "../lib/database.js";
import { sleep, waitForCount, type Row, type Scenario } from "../lib/context.js";
import { BENCH_JWT_SECRET, type ServerProcess } from "../lib/processes.js";
import { auditedSubscriptions, DASHBOARD_SUBSCRIPTION, framesText, whereEventsStopped, wsUrl } from "../lib/push-run.js";
import { rssKb } from "../lib/resources.js";
import { slope, summed } from "../lib/stats.js";
import { webhookBatches } from "../lib/webhooks.js";
import type { PushReport, SocketsReport } from "../loadgen.js";

const SAMPLE_MS = 5000;
/** Unmeasured traffic first, so that the slopes leave out JIT, pools and caches filling. */
const WARMUP_SECONDS = 15;
/** RSS and heap may not grow faster than this over the soak. */
const MAX_SLOPE_MB_PER_MIN = 1;

/**
 * Half the rate scenario 4 sustains with its dashboards on one instance (200/s, every frame
 * delivered). Not half of scenario 1's applied/s: that rate has no sockets to deliver to, and
 * half of it (553/s in one run) left delivery 16 s behind after a minute with 2,000 dashboards.
 */
const SOAK_RATE = { rate: 100, from: "half of the 200/s scenario 4 sustains with its dashboards" };

async function heapUsedMb(api: ServerProcess): Promise<number> {
  const text = await (await fetch(`${api.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("nodejs_heap_size_used_bytes"));
  return line ? Number(line.split(" ").at(-1)) / 1024 / 1024 : Number.NaN;
}

export const soak: Scenario = {
  id: 10,
  name: "Soak",
  async run(ctx) {
    if (!(ctx.soakMinutes > 0)) {
      ctx.log("skipped (--soak=0)");
      return [];
    }
    const sockets = ctx.quick ? 500 : 2000;
    const { rate, from } = SOAK_RATE;
    const windows = Math.max(1, Math.round(ctx.soakMinutes));
    const windowSeconds = (ctx.soakMinutes * 60) / windows;
    const db = await ctx.newDatabase();
    try {
      const teams = await seedCareTeams(db.sql, sockets);
      const tokens = await Promise.all(teams.map((t) => signAccessToken(BENCH_JWT_SECRET, t.doctorUserId, { ttlSeconds: 7200 })));
      const lg = await ctx.startLoadgen();
      const api = await ctx.startApi(db, {}, "soak");
      try {
        const tag = "soak";
        const opened = await lg.call<SocketsReport>("openSockets", { tag, url: wsUrl(api.url), tokens, query: DASHBOARD_SUBSCRIPTION, concurrency: 50 });
        await waitForCount(auditedSubscriptions(db), opened.opened, 120_000);
        await sleep(1000);
        ctx.log(`${opened.opened} dashboards; ${ctx.soakMinutes} min at ${rate}/s (${from})`);
        const batches = webhookBatches(teams);
        const url = `${api.url}/webhooks/100ms`;
        const warm = await lg.call<PushReport>("pushRun", { tag, webhooks: batches(url, rate * WARMUP_SECONDS), perSecond: rate, receiversPerKey: 1, drainSeconds: 20 });
        ctx.log(`  warm-up ${WARMUP_SECONDS} s: frames ${warm.frames}/${warm.expectedFrames}, p99 ${warm.latency.p99.toFixed(1)} ms`);
        const snapshots = api.heapDir ? [await heapSnapshot(api)] : [];
        const samples: Array<{ min: number; rss: number; heap: number }> = [];
        const t0 = performance.now();
        const sample = async () => samples.push({ min: (performance.now() - t0) / 60_000, rss: rssKb(api.pid) / 1024, heap: await heapUsedMb(api) });
        await sample();
        const timer = setInterval(() => void sample(), SAMPLE_MS);
        const sampler = await ctx.sample({ api: api.pid, loadgen: lg.pid }, db);
        const minutes: PushReport[] = [];
        try {
          for (let w = 0; w < windows; w++) {
            const webhooks = batches(url, Math.round(rate * windowSeconds));
            const report = await lg.call<PushReport>("pushRun", { tag, webhooks, perSecond: rate, receiversPerKey: 1, drainSeconds: 20 });
            ctx.log(`  window ${w + 1}: frames ${framesText(report)}, p99 ${report.latency.p99.toFixed(1)} ms, RSS ${samples.at(-1)!.rss.toFixed(0)} MB, heap ${samples.at(-1)!.heap.toFixed(0)} MB`);
            minutes.push(report);
          }
        } finally {
          clearInterval(timer);
        }
        const resources = await sampler.stop();
        if (api.heapDir) {
          const soaked = (performance.now() - t0) / 60_000;
          snapshots.push(await heapSnapshot(api));
          for (const line of heapDiff(snapshots[0]!, snapshots[1]!, soaked, 20, "minute")) ctx.log(line);
        }
        await lg.call("closeSockets", { tag });
        if (minutes.some((m) => m.frames < m.expectedFrames)) for (const line of await whereEventsStopped(db, [api])) ctx.log(line);
        return soakRows({ sockets: opened.opened, rate, from, windowSeconds, minutes, samples, resources });
      } finally {
        await api.stop();
        await lg.stop();
      }
    } finally {
      await db.drop();
    }
  },
};

function soakRows(r: {
  sockets: number; rate: number; from: string; windowSeconds: number; minutes: PushReport[];
  samples: Array<{ min: number; rss: number; heap: number }>; resources: Row["resources"];
}): Row[] {
  const scenario = `10 Soak, ${r.sockets.toLocaleString("en-US")} dashboards, ${r.rate}/s, ${((r.minutes.length * r.windowSeconds) / 60).toFixed(1)} min`;
  const rssSlope = slope(r.samples.map((s) => [s.min, s.rss] as const));
  const heapSlope = slope(r.samples.map((s) => [s.min, s.heap] as const));
  const expected = r.minutes.reduce((n, m) => n + m.expectedFrames, 0);
  const frames = r.minutes.reduce((n, m) => n + m.frames, 0);
  const late = r.minutes.reduce((n, m) => n + m.lateFrames, 0);
  const p99s = r.minutes.map((m) => m.latency.p99);
  const first = r.samples[0]!;
  const last = r.samples.at(-1)!;
  return [
    { scenario, metric: "RSS slope", ours: rssSlope, baseline: null, unit: "MB/min", resources: r.resources,
      target: { text: `< ${MAX_SLOPE_MB_PER_MIN} MB/min`, met: rssSlope < MAX_SLOPE_MB_PER_MIN },
      note: `rate ${r.from}; ${r.samples.length} samples every ${SAMPLE_MS / 1000} s: RSS ${first.rss.toFixed(0)} → ${last.rss.toFixed(0)} MB, heap used ${first.heap.toFixed(0)} → ${last.heap.toFixed(0)} MB` },
    { scenario, metric: "heap used slope", ours: heapSlope, baseline: null, unit: "MB/min", target: { text: `< ${MAX_SLOPE_MB_PER_MIN} MB/min`, met: heapSlope < MAX_SLOPE_MB_PER_MIN } },
    { scenario, metric: `p99 per ${r.windowSeconds.toFixed(0)} s`, ours: Math.max(...p99s), baseline: null, unit: "ms", oursText: p99s.map((p) => p.toFixed(1)).join(" / ") + " ms",
      target: { text: "< 50 ms each", met: p99s.every((p) => p < 50) } },
    { scenario, metric: "events delivered", ours: frames, baseline: null, unit: "", oursText: `${frames.toLocaleString("en-US")} / ${expected.toLocaleString("en-US")}${late > 0 ? ` (+${late} after the drain)` : ""}`,
      target: { text: "all", met: frames === expected },
      note: `webhooks acked ${r.minutes.reduce((n, m) => n + m.acked, 0)}/${r.minutes.reduce((n, m) => n + m.sent, 0)} (failures ${JSON.stringify(summed(r.minutes.map((m) => m.ackFailures)))}), unexpected frames ${r.minutes.reduce((n, m) => n + m.unexpectedFrames, 0)}` },
  ];
}
