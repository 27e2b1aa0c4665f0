/**
 * Shared by the push and broadcast scenarios: subscribe sockets (ours or the baseline's),
 * wait until every subscription is live, send webhooks at a steady rate, and time
 * webhook request start → frame at each socket that should get it.
 */
import type { BenchDatabase } from "./database.js";
import type { ScenarioContext } from "./context.js";
import { sleep, waitForCount } from "./context.js";
import type { RequestSpec } from "./http-client.js";
import type { Loadgen, ServerProcess } from "./processes.js";
import type { ResourceReport } from "./resources.js";
import type { PushReport, SocketsReport } from "../loadgen.js";
import type { WsProtocol } from "./gqlws-client.js";

export const DASHBOARD_SUBSCRIPTION =
  "subscription Dashboard($after: ID) { myConsultationEvents(after: $after) { id type occurredAt status previousStatus participant { role online joinedAt leftAt } consultation { id status } } }";

export interface PushPlan {
  /** Where the sockets connect (ws://…/graphql); several: tokens dealt round-robin over them. */
  socketsUrl: string | string[];
  tokens: string[];
  webhooks: Array<{ key: string; spec: RequestSpec }>;
  /**
   * Sent first over the same sockets at the same rate, delivered and not measured: the
   * server's first events after its start or a new set of sockets (code not yet optimised,
   * statements not yet prepared on each connection) are not what a run compares.
   */
  warmUp?: Array<{ key: string; spec: RequestSpec }>;
  perSecond: number;
  receiversPerKey: number;
  /** Resolves with how many subscriptions the server has live. */
  liveSubscriptions(): Promise<number>;
  /** Processes whose CPU to sample while webhooks flow. */
  processes: Record<string, number>;
  /** The sockets' protocol: graphql-ws unless "legacy" (the baseline speaks graphql-ws only). */
  protocol?: WsProtocol;
  /** Called right before the first webhook is sent. */
  onSending?: () => void;
}

/** "received/expected", and how many more came late (after the drain): late, not lost. */
export function framesText(r: Pick<PushReport, "frames" | "expectedFrames" | "lateFrames">): string {
  return `${r.frames}/${r.expectedFrames}${r.lateFrames > 0 ? ` (+${r.lateFrames} after the drain)` : ""}`;
}

export async function measurePush(
  ctx: ScenarioContext,
  lg: Loadgen,
  db: BenchDatabase,
  plan: PushPlan,
): Promise<{ report: PushReport; sockets: SocketsReport; resources: ResourceReport }> {
  const tag = `push-${Date.now()}`;
  // A run on a server that served the previous one: let that one's subscriptions end first.
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && (await plan.liveSubscriptions()) > 0; ) await sleep(100);
  ctx.log(`  opening ${plan.tokens.length} sockets`);
  const urls = [plan.socketsUrl].flat();
  const parts = await Promise.all(urls.map((url, u) =>
    lg.call<SocketsReport>("openSockets", { tag, url, tokens: plan.tokens.filter((_, i) => i % urls.length === u), query: DASHBOARD_SUBSCRIPTION, concurrency: Math.ceil(50 / urls.length), protocol: plan.protocol })));
  const sockets: SocketsReport = { opened: parts.reduce((n, p) => n + p.opened, 0), failures: parts.flatMap((p) => p.failures), seconds: Math.max(...parts.map((p) => p.seconds)) };
  if (sockets.opened < plan.tokens.length) ctx.log(`  only ${sockets.opened} sockets opened: ${sockets.failures.join("; ")}`);
  await waitForCount(plan.liveSubscriptions, sockets.opened, 60_000);
  await new Promise((r) => setTimeout(r, 1000));
  if (plan.warmUp?.length) {
    const warm = await lg.call<PushReport>("pushRun", { tag, webhooks: plan.warmUp, perSecond: plan.perSecond, receiversPerKey: plan.receiversPerKey, drainSeconds: 20 });
    ctx.log(`  warm-up: ${plan.warmUp.length} webhooks, frames ${framesText(warm)}, p99 ${warm.latency.p99.toFixed(1)} ms (not measured)`);
  }
  ctx.log(`  ${sockets.opened} subscribed in ${sockets.seconds.toFixed(1)} s; sending ${plan.webhooks.length} webhooks at ${plan.perSecond}/s`);
  const sampler = await ctx.sample({ ...plan.processes, loadgen: lg.pid }, db);
  plan.onSending?.();
  const report = await lg.call<PushReport>("pushRun", { tag, webhooks: plan.webhooks, perSecond: plan.perSecond, receiversPerKey: plan.receiversPerKey, drainSeconds: 20 });
  const resources = await sampler.stop();
  ctx.log(`  frames ${framesText(report)}, p50 ${report.latency.p50.toFixed(1)} ms, p99 ${report.latency.p99.toFixed(1)} ms, max ${report.latency.max.toFixed(1)} ms`);
  await lg.call("closeSockets", { tag });
  return { report, sockets, resources };
}

/** Live subscriptions of the API: one `subscription.start` audit record each (leaving out `exceptActor`'s). */
export function auditedSubscriptions(db: BenchDatabase, exceptActor?: string): () => Promise<number> {
  return async () => {
    const [row] = await db.sql<{ n: number }[]>`
      select (count(*) filter (where action = 'subscription.start') - count(*) filter (where action = 'subscription.end'))::int as n
      from audit_events where actor_id is distinct from ${exceptActor ?? null}::uuid`;
    return row!.n;
  };
}

/** Live subscriptions of the baseline server. */
export function baselineSubscriptions(base: ServerProcess): () => Promise<number> {
  return async () => ((await (await fetch(`${base.url}/stats`)).json()) as { subscribed: number }).subscribed;
}

export async function setupBaseline(base: ServerProcess, rooms: Record<string, { consultationId: string; doctorUserId: string }>, admins: string[]) {
  const response = await fetch(`${base.url}/setup`, { method: "POST", body: JSON.stringify({ rooms, admins }) });
  if (!response.ok) throw new Error(`baseline setup: ${response.status}`);
}

export const wsUrl = (httpUrl: string) => httpUrl.replace(/^http/, "ws") + "/graphql";
/** The same subscriptions over Server-Sent Events (the loadgen opens event streams for it). */
export const sseUrl = (httpUrl: string) => `${httpUrl}/graphql/stream`;

/**
 * When frames went missing: where the webhooks stopped. Inbox rows by outcome (unprocessed
 * ones were never applied; `failed` ones failed alone), events logged against webhooks
 * applied, and the API's warnings and errors (its log is at `warn` in the bench).
 */
export async function whereEventsStopped(db: BenchDatabase, apis: readonly ServerProcess[]): Promise<string[]> {
  const inbox = await db.sql<Array<{ outcome: string | null; unprocessed: boolean; n: number }>>`
    select outcome, processed_at is null as unprocessed, count(*)::int as n from hms_webhook_events group by 1, 2 order by 1, 2`;
  const [{ events }] = await db.sql<[{ events: number }]>`select count(*)::int as events from consultation_events where type in ('PARTICIPANT_JOINED', 'PARTICIPANT_LEFT')`;
  const lines = [
    `  inbox: ${inbox.map((r) => `${r.outcome ?? "none"}${r.unprocessed ? " (unprocessed)" : ""} ${r.n}`).join(", ")}; presence events logged ${events}`,
  ];
  for (const api of apis) {
    const logged = api.output().split("\n").filter((line) => /"level":(40|50|60)/.test(line));
    lines.push(`  ${api.url}: ${logged.length} warnings/errors${logged.length ? ":" : ""}`, ...logged.slice(-10).map((l) => `    ${l.slice(0, 400)}`));
  }
  return lines;
}
