/**
 * 3. Join tokens: joinConsultation against the 100ms stand-in on loopback (the API asks it
 * for the caller's stale peers, then signs the token locally and audits it). Baseline: the
 * same app token minted with jose in a bare node:http handler, no database.
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { startHmsStandIn } from "../../support/hms-stand-in.js";
import { seedCareTeams } from "../lib/database.js";
import type { Row, Scenario } from "../lib/context.js";
import { HMS_CREDS, HMS_TEMPLATE } from "../lib/hms.js";
import { BENCH_JWT_SECRET } from "../lib/processes.js";
import type { RequestSpec } from "../lib/http-client.js";
import type { LoopReport } from "../loadgen.js";

const CONCURRENCY = 16;
const JOIN = "mutation Join($id: ID!) { joinConsultation(consultationId: $id) { token roomId role expiresAt } }";

export const join: Scenario = {
  id: 3,
  name: "Join tokens",
  async run(ctx) {
    const seconds = ctx.quick ? 5 : 10;
    const db = await ctx.newDatabase();
    const hms = await startHmsStandIn(HMS_CREDS);
    try {
      const teams = await seedCareTeams(db.sql, 64, new Date());
      const api = await ctx.startApi(db, {
        HMS_ACCESS_KEY: HMS_CREDS.accessKey,
        HMS_APP_SECRET: HMS_CREDS.appSecret,
        HMS_TEMPLATE_ID: HMS_TEMPLATE,
        HMS_API_BASE_URL: hms.baseUrl,
      });
      const lg = await ctx.startLoadgen();
      const base = await ctx.startBaseline(db);
      try {
        const tokens = await Promise.all(teams.map((t) => signAccessToken(BENCH_JWT_SECRET, t.doctorUserId)));
        const ours = teams.map((t, i) => ({
          method: "POST" as const,
          url: `${api.url}/graphql`,
          headers: { "content-type": "application/json", authorization: `Bearer ${tokens[i]}` },
          body: JSON.stringify({ query: JOIN, variables: { id: t.consultationId } }),
        }));
        const floor = teams.map((t) => ({
          method: "POST" as const,
          url: `${base.url}/join`,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: JOIN, variables: { id: t.consultationId }, roomId: t.roomId, userId: t.doctorUserId }),
        }));
        const loop = (requests: RequestSpec[], maxSeconds: number) =>
          lg.call<LoopReport>("closedLoop", { requests, concurrency: CONCURRENCY, maxRequests: 1_000_000, maxSeconds, accept: "graphql-ok" });
        await loop(ours, 2);
        ctx.log(`ours: ${seconds} s at concurrency ${CONCURRENCY}`);
        const sampler = await ctx.sample({ api: api.pid, loadgen: lg.pid, "100ms stand-in": process.pid }, db);
        const o = await loop(ours, seconds);
        const oursResources = await sampler.stop();
        const standInCalls = hms.calls.length;
        await api.stop();
        await loop(floor, 2);
        ctx.log(`baseline: ${seconds} s at concurrency ${CONCURRENCY}`);
        const baseSampler = await ctx.sample({ baseline: base.pid, loadgen: lg.pid }, db);
        const b = await loop(floor, seconds);
        const baseResources = await baseSampler.stop();
        const scenario = `3 Join tokens (c=${CONCURRENCY}, ${seconds} s, 100ms stand-in)`;
        return [
          {
            scenario, metric: "joins/s", ours: o.rate, baseline: b.rate, unit: "/s", resources: oursResources, baselineResources: baseResources,
            note: `ours ${o.ok} ok / ${o.failed} failed ${JSON.stringify(o.failures)}; ${standInCalls} calls reached the 100ms stand-in`,
          },
          { scenario, metric: "p50", ours: o.latency.p50, baseline: b.latency.p50, unit: "ms" },
          { scenario, metric: "p99", ours: o.latency.p99, baseline: b.latency.p99, unit: "ms" },
        ] satisfies Row[];
      } finally {
        await lg.stop();
        await api.stop();
        await base.stop();
      }
    } finally {
      await hms.close();
      await db.drop();
    }
  },
};
