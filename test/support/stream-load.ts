/**
 * Load helpers for the stream abuse tests: the consultation log filled fast with SQL, lean
 * graphql-ws subscribers that only count what they receive (so the test process holds no
 * results), and samplers for a child process's RSS and a query's latency.
 */
import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { Db } from "../../src/db/client.js";

/** Appends `perConsultation` participant events to each consultation, in one statement each. */
export async function seedEventLog(db: Db, consultationIds: readonly string[], perConsultation: number): Promise<void> {
  for (const id of consultationIds) {
    await db.execute(sql`
      insert into consultation_events (consultation_id, type, occurred_at, status, side, peer_id, dedupe_key)
      select ${id}::uuid, 'PARTICIPANT_JOINED', now() - make_interval(secs => ${perConsultation} - g), 'pending',
             case when g % 2 = 0 then 'doctor' else 'patient' end, 'peer-' || g, 'seed:' || g
      from generate_series(1, ${perConsultation}) g`);
  }
}

export interface CountingSockets {
  /** Events received so far, per subscription. */
  counts: number[];
  errors: unknown[];
  completed: number;
  dispose(): Promise<void>;
}

/** `sockets` graphql-ws clients with `perSocket` subscriptions each, counting their events. */
export function countingSubscribers(
  httpUrl: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
  sockets: number,
  perSocket: number,
): CountingSockets {
  const counts: number[] = [];
  const errors: unknown[] = [];
  const state = { completed: 0 };
  const clients: Client[] = [];
  for (let s = 0; s < sockets; s++) {
    const client = createClient({
      url: httpUrl.replace(/^http/, "ws") + "/graphql",
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    clients.push(client);
    for (let i = 0; i < perSocket; i++) {
      const slot = counts.push(0) - 1;
      client.subscribe(
        { query, variables },
        {
          next: (value) => {
            if (value.errors) errors.push(...value.errors);
            else counts[slot]!++;
          },
          error: (error) => errors.push(error),
          complete: () => state.completed++,
        },
      );
    }
  }
  return {
    counts,
    errors,
    get completed() {
      return state.completed;
    },
    dispose: async () => {
      await Promise.all(clients.map((c) => c.dispose()));
    },
  };
}

/** Resident set size of a process, in MB (Linux /proc); Infinity once it is gone. */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Infinity);
  return kb / 1024;
}

/**
 * Repeats `probe` (with `gapMs` between) until `signal` aborts; returns each duration in ms,
 * Infinity for a probe that failed.
 */
export async function timeRepeatedly(probe: () => Promise<void>, gapMs: number, signal: AbortSignal): Promise<number[]> {
  const durations: number[] = [];
  while (!signal.aborted) {
    const start = performance.now();
    const ok = await probe().then(() => true, () => false);
    durations.push(ok ? performance.now() - start : Infinity);
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  return durations;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
