/**
 * The load generator: a separate node process (so clients never share an event loop with a
 * server), driven by the orchestrator over IPC. Its commands are generic building blocks;
 * what to send and what to expect comes from the scenario (test/bench/scenarios/*).
 */
import postgres from "postgres";
import { GqlWsSocket, openMany, type BenchSocket, type WsProtocol } from "./lib/gqlws-client.js";
import { GqlSseStream, isSseUrl, sseMany } from "./lib/gqlsse-client.js";
import { closedLoop, openLoop, type HttpResult, type RequestSpec } from "./lib/http-client.js";
import { slowCommands } from "./lib/slow-client.js";
import { summarize, type Summary } from "./lib/stats.js";
import { stormCommands } from "./lib/storm-clients.js";

export type Accept = "webhook-accepted" | "graphql-ok" | "http-200";

/** How much longer than the drain a run waits for frames still missing. */
const LATE_SECONDS = 30;

const accepts: Record<Accept, (r: HttpResult) => boolean> = {
  "webhook-accepted": (r) => r.status === 200 && r.body.includes('"accepted"'),
  "graphql-ok": (r) => r.status === 200 && !r.body.startsWith('{"errors"') && !r.body.includes('"errors":['),
  "http-200": (r) => r.status === 200,
};

export interface LoopReport {
  ok: number;
  failed: number;
  failures: Record<string, number>;
  seconds: number;
  /** Successful requests per second. */
  rate: number;
  latency: Summary;
}

export interface SocketsReport {
  opened: number;
  failures: string[];
  seconds: number;
}

export interface PushReport {
  sent: number;
  acked: number;
  ackFailures: Record<string, number>;
  ackLatency: Summary;
  expectedFrames: number;
  /** Frames received within the drain. */
  frames: number;
  /**
   * Frames that came after the drain, within LATE_SECONDS more (waited for only when some are
   * missing): late, not lost. Not in the latencies.
   */
  lateFrames: number;
  unexpectedFrames: number;
  /** Webhook request start → frame at the socket, every frame within the drain. */
  latency: Summary;
  /** Webhook request start → the last socket that should get it got it, per webhook. */
  fanoutComplete: Summary;
  /** Webhook acknowledged (response complete) → frame at the socket: the delivery path alone (negative: frame first). */
  afterAck: Summary;
  sendSeconds: number;
  /** Worst lateness of the sender against its schedule (ms). */
  senderLateMs: number;
}

export interface ResumeReport {
  received: number;
  firstMs: number;
  caughtUpMs: number;
  errors: unknown[];
}

type Frame = { data?: Record<string, unknown>; errors?: unknown[] };

interface SocketGroup {
  sockets: Array<BenchSocket | GqlSseStream | null>;
  frames: number;
}

const groups = new Map<string, SocketGroup>();

/** The consultation id of a subscription frame: `data.<field>.consultation.id`. */
function keyOf(frame: Frame): string | undefined {
  const event = frame.data ? (Object.values(frame.data)[0] as { consultation?: { id?: string } } | undefined) : undefined;
  return event?.consultation?.id;
}

const commands: Record<string, (args: any) => Promise<unknown>> = {
  ping: async () => "pong",
  ...stormCommands,
  ...slowCommands,

  /** Fixed concurrency; requests[i % requests.length]. */
  closedLoop: async (args: { requests: RequestSpec[]; concurrency: number; maxRequests: number; maxSeconds: number; accept: Accept }): Promise<LoopReport> => {
    const result = await closedLoop({
      make: (i) => args.requests[i % args.requests.length]!,
      concurrency: args.concurrency,
      maxRequests: args.maxRequests,
      maxSeconds: args.maxSeconds,
      accept: accepts[args.accept],
    });
    return { ok: result.ok, failed: result.failed, failures: result.failures, seconds: result.seconds, rate: result.ok / result.seconds, latency: summarize(result.latencies) };
  },

  /**
   * Opens one socket per token (graphql-ws unless `protocol`) and subscribes each with `query` /
   * variables[i] (or `variables`); for an SSE URL (…/graphql/stream), one event stream per token instead.
   */
  openSockets: async (args: { tag: string; url: string; tokens: string[]; query: string; variables?: Record<string, unknown>; concurrency: number; protocol?: WsProtocol }): Promise<SocketsReport> => {
    const group: SocketGroup = groups.get(args.tag) ?? { sockets: [], frames: 0 };
    groups.set(args.tag, group);
    const opened = isSseUrl(args.url) ? sseMany(args.url, args.tokens) : await openMany(args.url, args.tokens, args.concurrency, args.protocol);
    for (const socket of opened.sockets) {
      socket?.subscribe(args.query, args.variables ?? {}, () => void group.frames++);
    }
    group.sockets.push(...opened.sockets);
    return { opened: opened.sockets.filter(Boolean).length, failures: opened.failures.slice(0, 5), seconds: opened.seconds };
  },

  /** How many sockets of a group are still open, and how many frames they received. */
  socketState: async (args: { tag: string }) => {
    const group = groups.get(args.tag);
    const sockets = group?.sockets ?? [];
    return {
      open: sockets.filter((s) => s && s.closedWith === null).length,
      frames: group?.frames ?? 0,
      errors: sockets.flatMap((s) => s?.errors ?? []).slice(0, 3),
    };
  },

  closeSockets: async (args: { tag: string }) => {
    for (const socket of groups.get(args.tag)?.sockets ?? []) socket?.close();
    groups.delete(args.tag);
    await new Promise((r) => setTimeout(r, 200));
    return null;
  },

  /**
   * Sends webhooks at a steady rate and times, for every frame the group's sockets receive,
   * webhook request start → arrival. Frames are matched by consultation id: the n-th frame a
   * socket gets for a consultation belongs to the n-th webhook sent for it (one event per
   * webhook, delivered in order). `receiversPerKey` is how many sockets should get each one.
   */
  pushRun: async (args: {
    tag: string;
    webhooks: Array<{ key: string; spec: RequestSpec }>;
    perSecond: number;
    receiversPerKey: number;
    drainSeconds: number;
  }): Promise<PushReport> => {
    const group = groups.get(args.tag);
    if (!group) throw new Error(`no sockets tagged ${args.tag}`);
    const sentAt = new Map<string, number[]>();
    const ackedAt = new Map<string, number[]>();
    const arrivals: Array<[string, number, number]> = [];
    const lastArrival = new Map<string, number[]>();
    const latencies: number[] = [];
    let frames = 0;
    let unexpected = 0;
    for (const socket of group.sockets) {
      if (!socket) continue;
      const seen = new Map<string, number>();
      socket.onNext((frame, arrivedAt) => {
        const key = keyOf(frame);
        const n = key === undefined ? 0 : (seen.get(key) ?? 0);
        const t0 = key === undefined ? undefined : sentAt.get(key)?.[n];
        if (key === undefined || t0 === undefined) {
          unexpected++;
          return;
        }
        seen.set(key, n + 1);
        frames++;
        arrivals.push([key, n, arrivedAt]);
        latencies.push(arrivedAt - t0);
        const last = lastArrival.get(key)!;
        last[n] = Math.max(last[n] ?? 0, arrivedAt);
      });
    }
    const expectedFrames = args.webhooks.length * args.receiversPerKey;
    const sent = await openLoop({
      make: (i) => args.webhooks[i]!.spec,
      count: args.webhooks.length,
      perSecond: args.perSecond,
      onSend: (i, at) => {
        const key = args.webhooks[i]!.key;
        const n = (sentAt.get(key) ?? sentAt.set(key, []).get(key)!).push(at) - 1;
        if (!lastArrival.has(key)) lastArrival.set(key, []);
        const acks = ackedAt.get(key) ?? ackedAt.set(key, []).get(key)!;
        return (acked: number) => {
          acks[n] = acked;
        };
      },
      accept: accepts["webhook-accepted"],
    });
    const deadline = performance.now() + args.drainSeconds * 1000;
    while (frames < expectedFrames && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const fanout: number[] = [];
    for (const [key, times] of sentAt) {
      const last = lastArrival.get(key) ?? [];
      times.forEach((t0, n) => {
        if (last[n] !== undefined) fanout.push(last[n]! - t0);
      });
    }
    const afterAck = arrivals.flatMap(([key, n, at]) => {
      const acked = ackedAt.get(key)?.[n];
      return acked === undefined ? [] : [at - acked];
    });
    // Missing frames: late or lost? Wait a while longer, counting what still comes.
    const inDrain = frames;
    const drainLatencies = latencies.slice();
    const lateDeadline = performance.now() + LATE_SECONDS * 1000;
    while (frames < expectedFrames && performance.now() < lateDeadline) await new Promise((r) => setTimeout(r, 50));
    const lateFrames = frames - inDrain;
    frames = inDrain;
    for (const socket of group.sockets) socket?.onNext(() => void group.frames++);
    return {
      lateFrames,
      sent: args.webhooks.length,
      acked: sent.ok,
      ackFailures: sent.failures,
      ackLatency: summarize(sent.latencies),
      expectedFrames,
      frames,
      unexpectedFrames: unexpected,
      latency: summarize(drainLatencies),
      fanoutComplete: summarize(fanout),
      afterAck: summarize(afterAck),
      sendSeconds: sent.seconds,
      senderLateMs: sent.lateMs,
    };
  },

  /** One socket subscribes with `after` and counts frames until `expected` arrived. */
  resume: async (args: { url: string; token: string; query: string; variables: Record<string, unknown>; expected: number; timeoutMs: number }): Promise<ResumeReport> => {
    const socket = await GqlWsSocket.open(args.url, args.token);
    let received = 0;
    let first = Number.NaN;
    let last = Number.NaN;
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, args.timeoutMs);
      socket.subscribe(args.query, args.variables, (frame, arrivedAt) => {
        if (frame.errors) socket.errors.push(...frame.errors);
        received++;
        if (received === 1) first = arrivedAt - started;
        if (received === args.expected) {
          last = arrivedAt - started;
          clearTimeout(timer);
          resolve();
        }
      });
    });
    socket.close();
    return { received, firstMs: first, caughtUpMs: last, errors: socket.errors.slice(0, 3) };
  },

  /** Times a plain SELECT over postgres.js (the resume baseline). */
  pgSelect: async (args: { url: string; text: string; params: Array<string | number>; runs: number }) => {
    const sql = postgres(args.url, { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe("select 1");
      const runs: number[] = [];
      let rows = 0;
      for (let i = 0; i < args.runs; i++) {
        const started = performance.now();
        const result = await sql.unsafe(args.text, args.params);
        runs.push(performance.now() - started);
        rows = result.length;
      }
      return { runs, rows };
    } finally {
      await sql.end();
    }
  },
};

process.on("message", (message: { id: number; command: string; args: unknown }) => {
  const handler = commands[message.command];
  const reply = (body: object) => process.send?.({ id: message.id, ...body });
  if (!handler) {
    reply({ ok: false, error: `unknown command ${message.command}` });
    return;
  }
  handler(message.args).then(
    (result) => reply({ ok: true, result }),
    (error: Error) => reply({ ok: false, error: error.stack ?? error.message }),
  );
});
process.on("disconnect", () => process.exit(0));
