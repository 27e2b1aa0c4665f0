/**
 * 14. Partner webhooks: 10 endpoints (receivers on loopback in the harness) subscribed to the
 * patient's presence events. Lag: authentic 100ms webhooks at a fixed rate, each producing one
 * event, from the webhook's acknowledgement (200) to each partner's receipt of its delivery.
 * Throughput: a backlog of events logged while the endpoints were disabled, from enabling
 * them to the last receipt. Every delivery is verified with the standardwebhooks package.
 * Floor: the same payloads signed (standardwebhooks) and POSTed to the same receivers by a bare
 * sender in the harness, 4 in flight per receiver (as PARTNER_WEBHOOKS_CONCURRENCY): at the
 * same rate (lag from signing to receipt) and as fast as it can (deliveries/s).
 */
import { signAccessToken } from "../../../src/auth/access-token.js";
import { seedAdmins, seedCareTeams, seedEvents, type BenchDatabase } from "../lib/database.js";
import { sleep, waitForCount, type Row, type Scenario } from "../lib/context.js";
import { openLoop } from "../lib/http-client.js";
import { BareSender, startBenchReceiver, unverified, type BenchReceiver, type Receipt } from "../lib/partner-receivers.js";
import { BENCH_JWT_SECRET } from "../lib/processes.js";
import { summarize } from "../lib/stats.js";
import { webhookBatches } from "../lib/webhooks.js";

const ENDPOINTS = 10;
const CONCURRENCY = 4;
const ENV = {
  PARTNER_WEBHOOKS_SECRET_KEY: Buffer.alloc(32, 9).toString("base64"),
  PARTNER_WEBHOOKS_ALLOW_HTTP: "true",
  PARTNER_WEBHOOKS_ALLOW_HOSTS: "127.0.0.1",
  PARTNER_WEBHOOKS_CONCURRENCY: String(CONCURRENCY),
};

interface Sizes {
  rate: number;
  webhooks: number;
  backlogTeams: number;
  perTeam: number;
}

export const partners: Scenario = {
  id: 14,
  name: "Partner webhooks",
  async run(ctx) {
    const sizes: Sizes = ctx.quick ? { rate: 25, webhooks: 250, backlogTeams: 50, perTeam: 10 } : { rate: 50, webhooks: 1000, backlogTeams: 100, perTeam: 20 };
    const db = await ctx.newDatabase();
    const receivers = await Promise.all(Array.from({ length: ENDPOINTS }, () => startBenchReceiver()));
    try {
      const [adminId] = await seedAdmins(db.sql, 1);
      const token = await signAccessToken(BENCH_JWT_SECRET, adminId!, { ttlSeconds: 7200 });
      const api = await ctx.startApi(db, ENV, "partners");
      let ours: Omit<Measured, "floor">;
      try {
        const gql = graphql(api.url, token);
        const endpoints = await Promise.all(receivers.map((r) => gql(`mutation ($u: String!) { createPartnerEndpoint(input: { url: $u, eventTypes: [PARTICIPANT_JOINED, PARTICIPANT_LEFT] }) { secret endpoint { id } } }`, { u: r.url })));
        const secrets = endpoints.map((e) => e.createPartnerEndpoint.secret as string);
        const ids = endpoints.map((e) => e.createPartnerEndpoint.endpoint.id as string);
        const lag = { ...(await lagPhase(ctx, db, api.url, receivers, sizes)), logged: await loggedToAck(api.url) };
        const warnings = api.output().split("\n").filter((l) => /"level":(40|50)/.test(l) && l.includes("partner"));
        if (warnings.length > 0) ctx.log(`the API's partner warnings (${warnings.length}): ${warnings.slice(0, 3).join(" | ")}`);
        const sampler = await ctx.sample({ api: api.pid }, db);
        const throughput = await backlogPhase(ctx, db, gql, ids, receivers, sizes);
        ours = { lag, throughput: { ...throughput, resources: await sampler.stop() }, bad: receivers.reduce((n, r, i) => n + unverified(r.receipts, secrets[i]!), 0), secrets };
      } finally {
        await api.stop();
      }
      const floor = await floorOf(ctx, receivers, ours.secrets, sizes);
      return rowsOf({ ...ours, floor }, sizes);
    } finally {
      await Promise.all(receivers.map((r) => r.close()));
      await db.drop();
    }
  },
};

interface Measured {
  lag: { lags: number[]; missing: number; logged: number | null };
  throughput: { events: number; rate: number; first: Receipt[]; resources: Row["resources"] };
  floor: { lags: number[]; rate: number };
  bad: number;
  secrets: string[];
}

function graphql(url: string, token: string) {
  return async (query: string, variables: Record<string, unknown> = {}): Promise<any> => {
    const response = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    const json = (await response.json()) as { data?: any; errors?: unknown };
    if (!json.data || json.errors) throw new Error(`graphql: ${JSON.stringify(json.errors)}`);
    return json.data;
  };
}

/** Presence webhooks at `rate`/s; each receipt's lag from its webhook's acknowledgement (per consultation, the n-th event is the n-th webhook). */
async function lagPhase(ctx: Parameters<Scenario["run"]>[0], db: BenchDatabase, url: string, receivers: BenchReceiver[], sizes: Sizes) {
  const teams = await seedCareTeams(db.sql, Math.max(50, sizes.rate * 2));
  const batch = webhookBatches(teams)(`${url}/webhooks/100ms`, sizes.webhooks);
  const rounds = new Map<string, number>();
  const roundOf = batch.map(({ key }) => {
    const n = rounds.get(key) ?? 0;
    rounds.set(key, n + 1);
    return n;
  });
  const acks = new Map<string, number[]>();
  ctx.log(`ours: ${sizes.webhooks} webhooks at ${sizes.rate}/s to ${ENDPOINTS} endpoints`);
  await openLoop({
    make: (i) => batch[i]!.spec,
    count: batch.length,
    perSecond: sizes.rate,
    onSend: (i) => (endedAt) => {
      const list = acks.get(batch[i]!.key) ?? [];
      list[roundOf[i]!] = endedAt;
      acks.set(batch[i]!.key, list);
    },
    accept: (r) => r.status === 200,
  });
  const got = await Promise.all(receivers.map((r) => waitForCount(async () => r.receipts.length, sizes.webhooks, 60_000).catch(() => r.receipts.length)));
  const lags: number[] = [];
  for (const r of receivers) {
    const seen = new Map<string, number>();
    for (const receipt of r.receipts) {
      const key = (JSON.parse(receipt.body) as { data: { consultationId: string } }).data.consultationId;
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      const ack = acks.get(key)?.[n];
      if (ack !== undefined) lags.push(receipt.at - ack);
    }
  }
  return { lags, missing: got.reduce((sum, n) => sum + Math.max(0, sizes.webhooks - n), 0) };
}

/** A backlog logged while the endpoints are disabled; from enabling them to the last receipt. */
async function backlogPhase(ctx: Parameters<Scenario["run"]>[0], db: BenchDatabase, gql: ReturnType<typeof graphql>, ids: string[], receivers: BenchReceiver[], sizes: Sizes) {
  const setEnabled = (enabled: boolean) => Promise.all(ids.map((id) => gql("mutation ($id: ID!, $on: Boolean!) { setPartnerEndpointEnabled(id: $id, enabled: $on) { id } }", { id, on: enabled })));
  await setEnabled(false);
  const teams = await seedCareTeams(db.sql, sizes.backlogTeams);
  await seedEvents(db.sql, teams.map((t) => t.consultationId), sizes.perTeam);
  const events = sizes.backlogTeams * sizes.perTeam;
  const before = receivers.map((r) => r.receipts.length);
  await sleep(200);
  ctx.log(`ours: a backlog of ${events} events to ${ENDPOINTS} endpoints`);
  const started = performance.now();
  await setEnabled(true);
  await Promise.all(receivers.map((r, i) => waitForCount(async () => r.receipts.length - before[i]!, events, 120_000)));
  const last = Math.max(...receivers.map((r) => r.receipts.at(-1)!.at));
  return { events, rate: (events * ENDPOINTS) / ((last - started) / 1000), first: receivers[0]!.receipts.slice(before[0]!) };
}

/** The bare sender over the same payloads: phase 1's at the same rate, then phase 2's backlog at full speed. */
async function floorOf(ctx: Parameters<Scenario["run"]>[0], receivers: BenchReceiver[], secrets: string[], sizes: Sizes) {
  const lagBodies = receivers[0]!.receipts.slice(0, sizes.webhooks);
  const backlog = receivers[0]!.receipts.slice(-sizes.backlogTeams * sizes.perTeam);
  for (const r of receivers) r.receipts.length = 0;
  const senders = receivers.map((r, i) => new BareSender(r.url, secrets[i]!, CONCURRENCY));
  try {
    ctx.log(`baseline: ${lagBodies.length} payloads at ${sizes.rate}/s, signed and POSTed to ${ENDPOINTS} receivers`);
    const started = new Map<string, number>();
    const t0 = performance.now();
    const sends: Promise<void>[] = [];
    for (const [i, receipt] of lagBodies.entries()) {
      const wait = t0 + (i * 1000) / sizes.rate - performance.now();
      if (wait > 1) await sleep(wait);
      started.set(receipt.id, performance.now());
      for (const sender of senders) sends.push(sender.send(receipt.id, receipt.body));
    }
    await Promise.all(sends);
    const lags = receivers.flatMap((r) => r.receipts.map((x) => x.at - started.get(x.id)!));
    for (const r of receivers) r.receipts.length = 0;
    ctx.log(`baseline: a backlog of ${backlog.length} payloads to ${ENDPOINTS} receivers`);
    const t1 = performance.now();
    await Promise.all(senders.map((sender) => Promise.all(backlog.map((x) => sender.send(x.id, x.body)))));
    return { lags, rate: (backlog.length * ENDPOINTS) / ((performance.now() - t1) / 1000) };
  } finally {
    for (const sender of senders) sender.close();
  }
}

/** The API's own mean of event logged → partner's 2xx, from /metrics (partner_webhook_delivery_lag_seconds), in ms. */
async function loggedToAck(url: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text().catch(() => "");
  const sum = Number(/^partner_webhook_delivery_lag_seconds_sum (\S+)$/m.exec(text)?.[1]);
  const count = Number(/^partner_webhook_delivery_lag_seconds_count (\S+)$/m.exec(text)?.[1]);
  return count > 0 ? (sum / count) * 1000 : null;
}

function rowsOf(m: Measured, sizes: Sizes): Row[] {
  const scenario = `14 Partner webhooks (${ENDPOINTS} endpoints)`;
  const ours = summarize(m.lag.lags);
  const floor = summarize(m.floor.lags);
  const note =
    `${m.lag.lags.length + m.throughput.events * ENDPOINTS} deliveries verified with standardwebhooks, ${m.bad} failed verification, ${m.lag.missing} missing; ` +
    `lag: ${sizes.webhooks} presence webhooks at ${sizes.rate}/s, ours from the webhook's 200 to each receipt (through the inbox, the apply, the log, the dispatcher), ` +
    `the floor from signing to receipt (of ours, event logged → partner's 2xx as the API measures it: mean ${m.lag.logged?.toFixed(1) ?? "n/a"} ms); throughput: a backlog of ${m.throughput.events} events planned and sent once the endpoints are enabled, against the bare sender over the same payloads`;
  return [
    { scenario, metric: `delivered/s (backlog of ${m.throughput.events} events each)`, ours: m.throughput.rate, baseline: m.floor.rate, unit: "/s", resources: m.throughput.resources, note },
    { scenario, metric: `lag p50, ack → receipt (${sizes.rate} webhooks/s)`, ours: ours.p50, baseline: floor.p50, unit: "ms" },
    { scenario, metric: "lag p99, ack → receipt", ours: ours.p99, baseline: floor.p99, unit: "ms" },
  ];
}
