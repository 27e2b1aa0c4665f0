/**
 * HTTP load over keep-alive node:http connections: a closed loop (fixed concurrency, each
 * worker sends its next request when the previous answered) and an open loop (a fixed rate,
 * whatever the answers do). Latency is from just before the request is issued to the end
 * of the response body.
 */
import http from "node:http";

export interface RequestSpec {
  method: "GET" | "POST";
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpResult {
  status: number;
  body: string;
  ms: number;
}

export function sendRequest(agent: http.Agent, spec: RequestSpec): Promise<HttpResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const url = new URL(spec.url);
    const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
    const req = http.request(
      {
        agent,
        method: spec.method,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        headers: { ...spec.headers, ...(body ? { "content-length": String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export interface LoopResult {
  /** Latency of every completed request, ms. */
  latencies: number[];
  /** Requests whose answer `accept` judged a success. */
  ok: number;
  failed: number;
  /** Status code (or "error") → count, for the failures. */
  failures: Record<string, number>;
  seconds: number;
}

/**
 * `concurrency` workers take requests `make(0..)` until `maxRequests` were sent or
 * `maxSeconds` passed. `accept` decides whether an answer counts as a success.
 */
export async function closedLoop(options: {
  make: (index: number) => RequestSpec;
  concurrency: number;
  maxRequests: number;
  maxSeconds: number;
  accept: (result: HttpResult) => boolean;
}): Promise<LoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + options.maxSeconds * 1000;
  const worker = async () => {
    while (next < options.maxRequests && performance.now() < deadline) {
      const spec = options.make(next++);
      try {
        const result = await sendRequest(agent, spec);
        latencies.push(result.ms);
        if (options.accept(result)) ok++;
        else {
          failed++;
          failures[result.status] = (failures[result.status] ?? 0) + 1;
        }
      } catch {
        failed++;
        failures.error = (failures.error ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { latencies, ok, failed, failures, seconds };
}

/**
 * Sends `count` requests at `perSecond`, on schedule whatever the answers do. `onSend` sees
 * each request's start time (performance.now()) before it is issued.
 */
export async function openLoop(options: {
  make: (index: number) => RequestSpec;
  count: number;
  perSecond: number;
  /** Sees each request's start time before it is issued; may return a callback for its end. */
  onSend?: (index: number, startedAt: number) => ((endedAt: number) => void) | void;
  accept: (result: HttpResult) => boolean;
}): Promise<LoopResult & { lateMs: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const inflight = new Set<Promise<void>>();
  let ok = 0;
  let failed = 0;
  let lateMs = 0;
  const interval = 1000 / options.perSecond;
  const started = performance.now();
  for (let i = 0; i < options.count; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    lateMs = Math.max(lateMs, performance.now() - due);
    const spec = options.make(i);
    const onEnd = options.onSend?.(i, performance.now());
    const p = sendRequest(agent, spec).then(
      (result) => {
        onEnd?.(performance.now());
        latencies.push(result.ms);
        if (options.accept(result)) ok++;
        else {
          failed++;
          failures[result.status] = (failures[result.status] ?? 0) + 1;
        }
      },
      () => {
        failed++;
        failures.error = (failures.error ?? 0) + 1;
      },
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { latencies, ok, failed, failures, seconds, lateMs };
}
