/**
 * 9. Slow consumer: admin sockets receive a broadcast (webhooks at 1 every 2 s, every socket gets
 * every event) twice, once as they are and once while one more admin socket has stopped
 * reading its TCP socket. To make that socket's backlog real, it subscribes with `after` at
 * the start of a 20,000-event backlog (≈ 7 MB of frames, more than loopback's kernel buffers
 * hold) just before it pauses. The API runs with STREAM_MAX_BUFFERED_BYTES = 256 KiB and
 * graphql-ws pings off (a ping timeout would close the socket for another reason), and
 * REPLAY_MAX_EVENTS above the backlog (the default 10,000 would refuse the resume point).
 *
 * Reported: the API's RSS growth while the socket is stuck (bounded), the close code the
 * socket finds once it reads again (4413 expected), whether it then resumes with `after` and
 * holds every event (missed 0, duplicates 0), and the other sockets' p99 with and without it.
 * Baseline: the same broadcast without the slow socket, same run, same server.
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { encodeEventId } from "../../../src/consultations/event-cursor.js";
import { seedAdmins, seedCareTeams, seedEvents, type BenchDatabase } from "../lib/database.js";
import { sleep, type Row, type Scenario } from "../lib/context.js";
import { BENCH_JWT_SECRET } from "../lib/processes.js";
import { auditedSubscriptions, DASHBOARD_SUBSCRIPTION, measurePush, wsUrl } from "../lib/push-run.js";
import { rssKb } from "../lib/resources.js";
import type { SlowReport } from "../lib/slow-client.js";
import { webhookBatches } from "../lib/webhooks.js";

const BACKLOG = 20_000;
/** As in scenario 5: slow enough that each event's fan-out is timed on its own. */
const RATE = 0.5;
const MAX_BUFFERED = 256 * 1024;

export const slowConsumer: Scenario = {
  id: 9,
  name: "Slow consumer",
  async run(ctx) {
    const sockets = ctx.quick ? 100 : 300;
    const seconds = ctx.quick ? 12 : 20;
    const db = await ctx.newDatabase();
    try {
      const admins = await seedAdmins(db.sql, sockets + 1);
      // The backlog belongs to consultations of its own: seeded events have no webhook facts
      // behind them, so a webhook for one of their consultations would make the live projection
      // retract its 400 seeded events, a flood to every admin that is not what is measured here.
      const backlogTeams = await seedCareTeams(db.sql, 50);
      const teams = await seedCareTeams(db.sql, 10);
      const { firstId } = await seedEvents(db.sql, backlogTeams.map((t) => t.consultationId), BACKLOG / backlogTeams.length);
      const tokens = await Promise.all(admins.map((id) => signAccessToken(BENCH_JWT_SECRET, id, { ttlSeconds: 7200 })));
      const slowToken = tokens.pop()!;
      const slowAdmin = admins.at(-1)!;
      const batches = webhookBatches(teams);
      const nextWebhooks = (url: string) => batches(url, Math.round(RATE * seconds));
      const lg = await ctx.startLoadgen();
      const api = await ctx.startApi(db, { STREAM_MAX_BUFFERED_BYTES: String(MAX_BUFFERED), WS_PING_INTERVAL_MS: "0", REPLAY_MAX_EVENTS: String(10 * BACKLOG) }, "slow");
      try {
        const plan = () => ({
          socketsUrl: wsUrl(api.url), tokens, webhooks: nextWebhooks(`${api.url}/webhooks/100ms`), perSecond: RATE, receiversPerKey: sockets,
          liveSubscriptions: auditedSubscriptions(db, slowAdmin), processes: { api: api.pid },
        });
        ctx.log(`${sockets} admin sockets, no slow one`);
        const alone = await measurePush(ctx, lg, db, plan());
        const rssBefore = rssKb(api.pid);
        let rssPeak = rssBefore;
        const peak = setInterval(() => { rssPeak = Math.max(rssPeak, rssKb(api.pid)); }, 250);
        const withSlow = await (async () => {
          ctx.log(`a slow socket subscribes after ${BACKLOG.toLocaleString("en-US")} backlog events and stops reading`);
          await lg.call("slowOpen", { url: wsUrl(api.url), token: slowToken, query: DASHBOARD_SUBSCRIPTION, after: encodeEventId(firstId - 1) });
          await sleep(3000); // the backlog's burst: cut (or stuck) before the broadcast starts
          return measurePush(ctx, lg, db, plan());
        })().finally(() => clearInterval(peak));
        const rssStuck = rssKb(api.pid);
        const expected = await eventIds(db, firstId, ctx.log);
        ctx.log(`the slow socket reads again; ${expected.length} events are owed to it`);
        const slow = await lg.call<SlowReport>("slowFinish", { expected: expected.length, closeWaitMs: 15_000, timeoutMs: 60_000 });
        const received = new Set(slow.ids);
        const missed = expected.filter((id) => !received.has(id)).length;
        ctx.log(`  closed with ${slow.closeCode ?? "nothing (not closed)"} after ${slow.beforeClose} frames; resumed ${slow.afterResume}; missed ${missed}, duplicates ${slow.duplicates}; ` +
          `RSS ${mb(rssBefore)} → peak ${mb(rssPeak)} → ${mb(rssStuck)} MB`);
        const scenario = `9 Slow consumer, ${sockets} admin sockets + 1 paused, 1 event / ${1 / RATE} s × ${Math.round(RATE * seconds)}, cap ${MAX_BUFFERED / 1024} KiB`;
        const a = alone.report;
        const w = withSlow.report;
        return [
          { scenario, metric: "others' p99 (base: no slow socket)", ours: w.latency.p99, baseline: a.latency.p99, unit: "ms", resources: withSlow.resources, baselineResources: alone.resources,
            target: { text: "≤ 1.2 × base", met: w.latency.p99 <= 1.2 * a.latency.p99 && w.frames === w.expectedFrames },
            note: `others' frames ${w.frames}/${w.expectedFrames} with the slow socket, ${a.frames}/${a.expectedFrames} without; p50 ${w.latency.p50.toFixed(1)} vs ${a.latency.p50.toFixed(1)} ms` },
          { scenario, metric: "API RSS growth while stuck", ours: (rssPeak - rssBefore) / 1024, baseline: null, unit: "MB", target: { text: "< 20 MB", met: rssPeak - rssBefore < 20 * 1024 },
            note: `RSS before the slow socket ${mb(rssBefore)} MB, peak while it was paused ${mb(rssPeak)} MB, at the end of the broadcast ${mb(rssStuck)} MB` },
          { scenario, metric: "slow socket closed with", ours: slow.closeCode, baseline: null, unit: "", oursText: slow.closeCode === null ? "not closed" : String(slow.closeCode),
            target: { text: "4413", met: slow.closeCode === 4413 },
            note: `read ${slow.beforeClose} frames once reading again, then ${slow.afterResume} after resuming with after; errors ${JSON.stringify(slow.errors).slice(0, 200)}` },
          { scenario, metric: "missed after resume / duplicates", ours: missed, baseline: null, unit: "", oursText: `${missed} / ${slow.duplicates}`,
            target: { text: "0 / 0", met: missed === 0 && slow.duplicates === 0 } },
        ] satisfies Row[];
      } finally {
        await api.stop();
        await lg.stop();
      }
    } finally {
      await db.drop();
    }
  },
};

const mb = (kb: number) => (kb / 1024).toFixed(0);

/** Every event id after the backlog's start, as the API encodes them: what an admin is owed. */
async function eventIds(db: BenchDatabase, firstId: number, log: (m: string) => void): Promise<string[]> {
  const rows = await db.sql<{ id: string }[]>`select id::text from consultation_events where id >= ${firstId} order by id`;
  const types = await db.sql<{ type: string; n: number }[]>`select type, count(*)::int as n from consultation_events where id >= ${firstId} group by type`;
  log(`  owed by type: ${types.map((t) => `${t.type} ${t.n}`).join(", ")}`);
  return rows.map((r) => encodeEventId(Number(r.id)));
}
