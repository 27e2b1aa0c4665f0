/**
 * Load-generator side of the reconnect storm (scenario 8): dashboards that, when their
 * server dies, reconnect elsewhere and resume with `after` = the last event id they saw,
 * waiting between attempts as graphql-ws's client does by default
 * (`randomisedExponentialBackoff`: 1 s × 2^retries plus 300–3,000 ms of jitter). Written
 * here rather than with graphql-ws's `createClient` because thousands of those clients in one
 * process cost far more than these (see gqlws-client.ts); the wait is the same formula.
 */
import { GqlWsSocket } from "./gqlws-client.js";
import { openLoop, type RequestSpec } from "./http-client.js";

/** graphql-ws's client: `retryDelay = 1000 * 2 ** retries; + random 300..3000 ms`. */
export function backoffMs(retries: number, random = Math.random): number {
  return 1000 * 2 ** retries + Math.floor(random() * (3000 - 300) + 300);
}

const MAX_RETRIES = 5;

interface StormClient {
  key: string;
  token: string;
  socket: GqlWsSocket | null;
  /** Cursor for the next subscribe: the last event id received, else the initial one. */
  after: string;
  ids: Set<string>;
  duplicates: number;
  /** Arrival time of each distinct frame, in order. */
  arrivals: number[];
  /** When the first reconnect attempt started, and when the resubscribe was sent. */
  firstRetryAt: number | null;
  resubscribedAt: number | null;
  errors: string[];
}

export interface StormReport {
  clients: number;
  sent: number;
  acked: number;
  ackFailures: Record<string, number>;
  expectedFrames: number;
  frames: number;
  missed: number;
  duplicates: number;
  notReconnected: number;
  /** Kill → the last client caught up (has every event acked before its resubscribe); null if one never did. */
  caughtUpMs: number | null;
  /** Clients short of frames at the end, and what a few of them looked like. */
  incomplete: number;
  incompleteSample: string[];
  /** Consultation and cursor of (up to 500) clients short of frames, to look up in the log. */
  incompleteCursors: Array<{ key: string; after: string }>;
  /** Kill → the last client's first reconnect attempt: graphql-ws's backoff alone. */
  backoffFloorMs: number;
  /** Close codes other than the kill's 1006 on the dead server's sockets, by code. */
  closeCodes: Record<string, number>;
  /** Failed reconnect attempts (HTTP status or message) and GraphQL errors, by text. */
  errors: Record<string, number>;
}

const storms = new Map<string, { clients: StormClient[]; subscription: string }>();

function subscribeClient(client: StormClient, query: string): void {
  client.socket!.subscribe(query, { after: client.after }, (frame, arrivedAt) => {
    if (frame.errors) client.errors.push(`graphql error: ${JSON.stringify(frame.errors).slice(0, 120)}`);
    const event = frame.data ? (Object.values(frame.data)[0] as { id?: string } | undefined) : undefined;
    if (!event?.id) return;
    if (client.ids.has(event.id)) {
      client.duplicates++;
      return;
    }
    client.ids.add(event.id);
    client.after = event.id;
    client.arrivals.push(arrivedAt);
  });
}

export const stormCommands = {
  /** Opens one client per token on `url`, each subscribed with `after` = `initialAfter`. */
  stormOpen: async (args: { tag: string; url: string; tokens: string[]; keys: string[]; query: string; initialAfter: string; concurrency: number }) => {
    const clients: StormClient[] = args.tokens.map((token, i) => ({
      key: args.keys[i]!, token, socket: null, after: args.initialAfter, ids: new Set(), duplicates: 0, arrivals: [],
      firstRetryAt: null, resubscribedAt: null, errors: [],
    }));
    let next = 0;
    const failures: string[] = [];
    await Promise.all(Array.from({ length: args.concurrency }, async () => {
      while (next < clients.length) {
        const client = clients[next++]!;
        try {
          client.socket = await GqlWsSocket.open(args.url, client.token);
          subscribeClient(client, args.query);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    }));
    storms.set(args.tag, { clients, subscription: args.query });
    return { opened: clients.length - failures.length, failures: failures.slice(0, 5) };
  },

  /**
   * Sends `webhooks` at `perSecond`; `killAfterMs` into the run, SIGKILLs `killPid` (the
   * clients' server); every client whose socket closes then reconnects to `reconnectUrl`
   * with backoff and resumes. Waits (≤ drainSeconds) until each has every event of its
   * consultation whose webhook was acknowledged.
   */
  stormRun: async (args: { tag: string; webhooks: Array<{ key: string; spec: RequestSpec }>; perSecond: number; killPid: number; killAfterMs: number; reconnectUrl: string; drainSeconds: number }): Promise<StormReport> => {
    const storm = storms.get(args.tag);
    if (!storm) throw new Error(`no storm tagged ${args.tag}`);
    const { clients, subscription } = storm;
    const closeCodes: Record<string, number> = {};
    let killAt = Number.POSITIVE_INFINITY;
    const reconnect = async (client: StormClient, retries: number): Promise<void> => {
      client.firstRetryAt ??= performance.now();
      try {
        client.socket = await GqlWsSocket.open(args.reconnectUrl, client.token, "graphql-ws", 60_000);
        client.resubscribedAt = performance.now();
        subscribeClient(client, subscription);
      } catch (error) {
        client.errors.push(`reconnect: ${(error as Error).message.slice(0, 80)}`);
        if (retries + 1 < MAX_RETRIES) setTimeout(() => void reconnect(client, retries + 1), backoffMs(retries + 1));
      }
    };
    const watchers = setInterval(() => {
      for (const client of clients) {
        const socket = client.socket;
        if (!socket || socket.closedWith === null || client.firstRetryAt !== null || client.resubscribedAt !== null) continue;
        if (socket.closedWith !== 1006) closeCodes[socket.closedWith] = (closeCodes[socket.closedWith] ?? 0) + 1;
        client.firstRetryAt = Number.NaN; // scheduled; set to the real start by reconnect()
        setTimeout(() => { client.firstRetryAt = null; void reconnect(client, 0); }, backoffMs(0));
      }
    }, 10);
    const killTimer = setTimeout(() => {
      killAt = performance.now();
      process.kill(args.killPid, "SIGKILL");
    }, args.killAfterMs);
    const ackedAt = new Map<string, number[]>();
    const sent = await openLoop({
      make: (i) => args.webhooks[i]!.spec,
      count: args.webhooks.length,
      perSecond: args.perSecond,
      onSend: (i) => (acked) => {
        const key = args.webhooks[i]!.key;
        (ackedAt.get(key) ?? ackedAt.set(key, []).get(key)!).push(acked);
      },
      accept: (r) => r.status === 200 && r.body.includes('"accepted"'),
    });
    clearTimeout(killTimer);
    const expected = (c: StormClient) => ackedAt.get(c.key)?.length ?? 0;
    const deadline = performance.now() + args.drainSeconds * 1000;
    while (performance.now() < deadline && clients.some((c) => c.ids.size < expected(c) || (c.socket?.closedWith ?? null) !== null)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    clearInterval(watchers);
    return summarizeStorm(clients, { sent: args.webhooks.length, ok: sent.ok, failures: sent.failures }, ackedAt, killAt, closeCodes);
  },

  stormClose: async (args: { tag: string }) => {
    for (const client of storms.get(args.tag)?.clients ?? []) client.socket?.close();
    storms.delete(args.tag);
    await new Promise((r) => setTimeout(r, 200));
    return null;
  },
};

function summarizeStorm(
  clients: StormClient[],
  sent: { sent: number; ok: number; failures: Record<string, number> },
  ackedAt: Map<string, number[]>,
  killAt: number,
  closeCodes: Record<string, number>,
): StormReport {
  const errors: Record<string, number> = {};
  let caughtUp = 0;
  let floor = 0;
  let missed = 0;
  let expectedFrames = 0;
  let notReconnected = 0;
  const incomplete: string[] = [];
  const cursors: Array<{ key: string; after: string }> = [];
  for (const client of clients) {
    const socketErrors = (client.socket?.errors ?? []).map((e) => `error message: ${JSON.stringify(e).slice(0, 120)}`);
    for (const e of [...client.errors, ...socketErrors]) errors[e] = (errors[e] ?? 0) + 1;
    const acks = ackedAt.get(client.key) ?? [];
    expectedFrames += acks.length;
    missed += Math.max(0, acks.length - client.ids.size);
    if (client.ids.size < acks.length) {
      if (cursors.length < 500) cursors.push({ key: client.key, after: client.after });
      incomplete.push(`got ${client.ids.size}/${acks.length}, resubscribed ${client.resubscribedAt === null ? "no" : `${((client.resubscribedAt - killAt) / 1000).toFixed(1)} s after the kill`}` +
        `, acks at ${acks.map((t) => ((t - killAt) / 1000).toFixed(1)).join("/")} s, socket ${client.socket?.closedWith ?? "open"}${client.socket?.completed ? " completed" : ""}`);
    }
    if (client.resubscribedAt === null) {
      notReconnected++;
      continue;
    }
    floor = Math.max(floor, (client.firstRetryAt ?? killAt) - killAt);
    // Caught up: holds every event whose webhook was acknowledged before it resubscribed.
    const owed = acks.filter((t) => t <= client.resubscribedAt!).length;
    const at = owed === 0 ? client.resubscribedAt : client.arrivals[owed - 1];
    caughtUp = Math.max(caughtUp, (at ?? Number.POSITIVE_INFINITY) - killAt);
  }
  return {
    clients: clients.length, sent: sent.sent, acked: sent.ok, ackFailures: sent.failures, expectedFrames,
    frames: clients.reduce((n, c) => n + c.ids.size, 0), missed,
    duplicates: clients.reduce((n, c) => n + c.duplicates, 0), notReconnected,
    caughtUpMs: Number.isFinite(caughtUp) ? caughtUp : null, incomplete: incomplete.length, incompleteSample: incomplete.slice(0, 3), incompleteCursors: cursors, backoffFloorMs: floor, closeCodes, errors,
  };
}
