/**
 * 5. Broadcast: 1,000 admin sockets, every one receiving every event (`myConsultationEvents`
 * of an admin is everything). Webhooks at a steady, low rate; time from webhook request
 * start to the frame at each socket, and to the last socket. Baseline: a bare `ws` server
 * sending the same frame to all 1,000 sockets from its webhook handler. Ours runs three times:
 * over graphql-ws, over the legacy Apollo protocol (graphql_flutter's default) and over
 * Server-Sent Events (/graphql/stream). Each of the four runs first sends WARM_UP webhooks
 * over its sockets, not measured: the first run on a freshly started instance otherwise paid
 * the process's start (its first events several times slower) and the three protocols, always
 * run in the same order, were not compared on the same terms.
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { seedAdmins, seedCareTeams } from "../lib/database.js";
import type { Row, Scenario } from "../lib/context.js";
import type { WsProtocol } from "../lib/gqlws-client.js";
import { BENCH_JWT_SECRET } from "../lib/processes.js";
import { auditedSubscriptions, baselineSubscriptions, measurePush, setupBaseline, sseUrl, wsUrl } from "../lib/push-run.js";
import { webhookBatches } from "../lib/webhooks.js";
import { roomsOf } from "./push.js";

const SOCKETS = Number(process.env.BENCH_BROADCAST_SOCKETS ?? 1000);
/**
 * Events per second: each is 1,000 frames. One every 2 s, so each event's fan-out is timed
 * on its own (at 1/s and above the API falls behind and latency only measures the backlog).
 */
export const BROADCAST_RATE = 0.5;
/** Untimed events before each run's timed ones (the first two or three after a start are slow). */
const WARM_UP = 3;

export const broadcast: Scenario = {
  id: 5,
  name: "Broadcast",
  async run(ctx) {
    const seconds = ctx.quick ? 10 : 20;
    const db = await ctx.newDatabase();
    try {
      const admins = await seedAdmins(db.sql, SOCKETS);
      const teams = await seedCareTeams(db.sql, 50);
      const tokens = await Promise.all(admins.map((id) => signAccessToken(BENCH_JWT_SECRET, id, { ttlSeconds: 7200 })));
      const count = Math.round(BROADCAST_RATE * seconds);
      const batches = webhookBatches(teams);
      const nextWebhooks = (url: string) => ({ warmUp: batches(url, WARM_UP), webhooks: batches(url, count) });
      const lg = await ctx.startLoadgen();
      try {
        ctx.log("ours");
        const api = await ctx.startApi(db, {}, "broadcast");
        const [ours, legacy, overSse] = await (async () => {
          try {
            const run = (socketsUrl: string, protocol?: WsProtocol) =>
              measurePush(ctx, lg, db, {
                socketsUrl, tokens, ...nextWebhooks(`${api.url}/webhooks/100ms`), perSecond: BROADCAST_RATE, receiversPerKey: SOCKETS,
                liveSubscriptions: auditedSubscriptions(db), processes: { api: api.pid }, protocol,
              });
            const current = await run(wsUrl(api.url), "graphql-ws");
            ctx.log("ours, legacy protocol");
            const overLegacy = await run(wsUrl(api.url), "legacy");
            ctx.log("ours, over SSE");
            return [current, overLegacy, await run(sseUrl(api.url))] as const;
          } finally {
            await api.stop();
          }
        })();
        ctx.log("baseline");
        const base = await ctx.startBaseline(db);
        const floor = await (async () => {
          try {
            await setupBaseline(base, roomsOf(teams), admins);
            return await measurePush(ctx, lg, db, {
              socketsUrl: wsUrl(base.url), tokens, ...nextWebhooks(`${base.url}/push`), perSecond: BROADCAST_RATE, receiversPerKey: SOCKETS,
              liveSubscriptions: baselineSubscriptions(base), processes: { baseline: base.pid },
            });
          } finally {
            await base.stop();
          }
        })();
        const f = floor.report;
        return ([["", ours], [", legacy protocol", legacy], [" (SSE streams)", overSse]] as const).flatMap(([label, run]) => {
          const scenario = `5 Broadcast, ${SOCKETS} admin sockets, 1 event / ${1 / BROADCAST_RATE} s × ${count}${label}`;
          const r = run.report;
          return [
            { scenario, metric: "p50", ours: r.latency.p50, baseline: f.latency.p50, unit: "ms", resources: run.resources, baselineResources: floor.resources,
              note: `frames ${r.frames}/${r.expectedFrames} (baseline ${f.frames}/${f.expectedFrames}); time to the last socket p50 ${r.fanoutComplete.p50.toFixed(0)} ms / p99 ${r.fanoutComplete.p99.toFixed(0)} ms (baseline ${f.fanoutComplete.p50.toFixed(0)} / ${f.fanoutComplete.p99.toFixed(0)} ms), i.e. ours fans out ≈ ${Math.round(SOCKETS / (r.fanoutComplete.p50 / 1000))} frames/s` },
            { scenario, metric: "p99", ours: r.latency.p99, baseline: f.latency.p99, unit: "ms", target: { text: "< 100 ms", met: r.latency.p99 < 100 && r.frames === r.expectedFrames } },
            { scenario, metric: "max", ours: r.latency.max, baseline: f.latency.max, unit: "ms" },
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
