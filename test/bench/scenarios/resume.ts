/**
 * 7. Resume: a doctor's dashboard that missed 10,000 events (across 20 of their
 * consultations, interleaved in the log with 10,000 events of other doctors) resubscribes
 * with `after`: time from subscribe to the 10,000th frame. Baseline: one SELECT of the same
 * 10,000 rows (the routed columns the API reads) over postgres.js.
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { encodeEventId } from "../../../src/consultations/event-cursor.js";
import { seedCareTeams, seedEvents } from "../lib/database.js";
import type { Row, Scenario } from "../lib/context.js";
import { BENCH_JWT_SECRET } from "../lib/processes.js";
import { DASHBOARD_SUBSCRIPTION, wsUrl } from "../lib/push-run.js";
import { median } from "../lib/stats.js";
import type { ResumeReport } from "../loadgen.js";

const MISSED = 10_000;
const CONSULTATIONS = 20;

export const resume: Scenario = {
  id: 7,
  name: "Resume",
  async run(ctx) {
    const runs = ctx.quick ? 1 : 3;
    const db = await ctx.newDatabase();
    try {
      const teams = await seedCareTeams(db.sql, CONSULTATIONS * 2);
      // The dashboard's doctor owns the first 20 consultations; the other 20 belong to others.
      const doctor = teams[0]!;
      await db.sql`update video_consultations set doctor_id = ${doctor.doctorId}
        where id in ${db.sql(teams.slice(0, CONSULTATIONS).map((t) => t.consultationId))}`;
      const { firstId } = await seedEvents(db.sql, teams.map((t) => t.consultationId), (2 * MISSED) / (CONSULTATIONS * 2));
      const after = encodeEventId(firstId - 1);
      const token = await signAccessToken(BENCH_JWT_SECRET, doctor.doctorUserId, { ttlSeconds: 7200 });
      const lg = await ctx.startLoadgen();
      try {
        const api = await ctx.startApi(db, {}, "resume");
        const ours: ResumeReport[] = [];
        const sampler = await ctx.sample({ api: api.pid, loadgen: lg.pid }, db);
        try {
          const started = performance.now();
          // Up to `runs` runs, but no new one after 25 s (one slow run is already conclusive).
          for (let i = 0; i < runs && performance.now() - started < 25_000; i++) {
            const report = await lg.call<ResumeReport>("resume", { url: wsUrl(api.url), token, query: DASHBOARD_SUBSCRIPTION, variables: { after }, expected: MISSED, timeoutMs: 60_000 });
            ctx.log(`  run ${i + 1}: ${report.received} frames, caught up in ${report.caughtUpMs.toFixed(0)} ms (first after ${report.firstMs.toFixed(0)} ms)`);
            ours.push(report);
          }
        } finally {
          await api.stop();
        }
        const resources = await sampler.stop();
        const select = await lg.call<{ runs: number[]; rows: number }>("pgSelect", {
          url: db.url,
          text: `select e.*, vc.doctor_id, vc.patient_id from consultation_events e join video_consultations vc on vc.id = e.consultation_id
                 where e.id > $1 and vc.doctor_id = $2 order by e.id`,
          params: [firstId - 1, doctor.doctorId],
          runs: 5,
        });
        const caughtUp = median(ours.map((r) => r.caughtUpMs));
        const scenario = `7 Resume ${MISSED.toLocaleString("en-US")} missed events (median of ${ours.length})`;
        return [
          { scenario, metric: "time to caught up", ours: caughtUp, baseline: median(select.runs), unit: "ms", resources,
            target: { text: "< 400 ms", met: caughtUp < 400 && ours.every((r) => r.received === MISSED) },
            note: `ours received ${ours.map((r) => r.received).join("/")} frames, errors ${JSON.stringify(ours.flatMap((r) => r.errors)).slice(0, 200)}; baseline SELECT returned ${select.rows} rows (median of ${select.runs.length})` },
          { scenario, metric: "time to first frame", ours: median(ours.map((r) => r.firstMs)), baseline: null, unit: "ms" },
        ] satisfies Row[];
      } finally {
        await lg.stop();
      }
    } finally {
      await db.drop();
    }
  },
};
