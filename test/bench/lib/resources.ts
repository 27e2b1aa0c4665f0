/**
 * What limits a figure: CPU of each process of the run, sampled from /proc (whole process
 * and its main thread, i.e. the event loop), CPU of the PostgreSQL backends serving the
 * bench database, the machine's total CPU, and what those backends were waiting on
 * (pg_stat_activity wait events: advisory locks, WAL flushes at commit, client reads...).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { Sql } from "./database.js";

const TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime in ticks of /proc/<pid>[/task/<tid>]/stat; null if gone. */
function cpuTicks(path: string): number | null {
  try {
    const text = readFileSync(path, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return match ? Number(match[1]) : Number.NaN;
}

export interface ResourceReport {
  seconds: number;
  /** Percent of one core, per named process (whole process). */
  cpu: Record<string, number>;
  /** Percent of one core spent by the main thread (the event loop) of each named process. */
  mainThread: Record<string, number>;
  /** Highest RSS sampled (kB) per named process. */
  rssMaxKb: Record<string, number>;
  /** Percent of one core used by PostgreSQL backends connected to the bench database. */
  postgres: number;
  /** Percent of the whole machine (all cores) busy. */
  machine: number;
  /** Percent of one core used by everything else (other PostgreSQL processes, other users' work). */
  others: number;
  /** Share of (backend, sample) pairs of busy backends per wait ("CPU" = running; or "idle in transaction"). */
  waits: Array<[string, number]>;
}

/** Samples every `intervalMs` until stopped. */
export class ResourceSampler {
  #timer: NodeJS.Timeout | null = null;
  #start = 0;
  #startTicks = new Map<string, number>();
  #lastTicks = new Map<string, number>();
  #rssMax = new Map<string, number>();
  #pgTicks = new Map<number, { first: number; last: number }>();
  #machineStart = machineTicks();
  #waits = new Map<string, number>();
  #waitSamples = 0;
  #busy = false;

  constructor(
    private readonly processes: Record<string, number>,
    private readonly sql: Sql | null,
    private readonly database: string | null,
    private readonly intervalMs = 250,
  ) {}

  start(): this {
    this.#start = performance.now();
    this.#machineStart = machineTicks();
    this.#read(this.#startTicks);
    this.#timer = setInterval(() => void this.#sample(), this.intervalMs);
    return this;
  }

  #read(into: Map<string, number>) {
    for (const [name, pid] of Object.entries(this.processes)) {
      const whole = cpuTicks(`/proc/${pid}/stat`);
      const main = cpuTicks(`/proc/${pid}/task/${pid}/stat`);
      if (whole !== null) into.set(name, whole);
      if (main !== null) into.set(`${name}#main`, main);
      try {
        const rss = rssKb(pid);
        if (!Number.isNaN(rss)) this.#rssMax.set(name, Math.max(this.#rssMax.get(name) ?? 0, rss));
      } catch {
        // gone
      }
    }
  }

  async #sample() {
    this.#read(this.#lastTicks);
    if (!this.sql || !this.database || this.#busy) return;
    this.#busy = true;
    try {
      const rows = await this.sql<{ pid: number; state: string | null; wait: string | null }[]>`
        select pid, state, wait_event_type || ':' || wait_event as wait
        from pg_stat_activity where datname = ${this.database} and pid <> pg_backend_pid()`;
      for (const row of rows) {
        const ticks = cpuTicks(`/proc/${row.pid}/stat`);
        if (ticks !== null) {
          const seen = this.#pgTicks.get(row.pid);
          if (seen) seen.last = ticks;
          else this.#pgTicks.set(row.pid, { first: ticks, last: ticks });
        }
        if (row.state && row.state !== "idle") {
          // Active: what it waits on ("CPU" = running). Idle in transaction: holding its locks
          // while it waits for the API's next statement.
          const key = row.state === "active" ? (row.wait ?? "CPU") : row.state;
          this.#waits.set(key, (this.#waits.get(key) ?? 0) + 1);
          this.#waitSamples++;
        }
      }
    } catch {
      // sampling is best effort
    } finally {
      this.#busy = false;
    }
  }

  async stop(): Promise<ResourceReport> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#sample();
    const seconds = (performance.now() - this.#start) / 1000;
    const machineEnd = machineTicks();
    const pct = (ticks: number) => (ticks / TICKS / seconds) * 100;
    const cpu: Record<string, number> = {};
    const mainThread: Record<string, number> = {};
    for (const name of Object.keys(this.processes)) {
      const a = this.#startTicks.get(name);
      const b = this.#lastTicks.get(name);
      if (a !== undefined && b !== undefined) cpu[name] = pct(b - a);
      const am = this.#startTicks.get(`${name}#main`);
      const bm = this.#lastTicks.get(`${name}#main`);
      if (am !== undefined && bm !== undefined) mainThread[name] = pct(bm - am);
    }
    const pgTicks = [...this.#pgTicks.values()].reduce((sum, t) => sum + (t.last - t.first), 0);
    const machine =
      ((machineEnd.busy - this.#machineStart.busy) / Math.max(1, machineEnd.total - this.#machineStart.total)) * 100;
    const waits = [...this.#waits.entries()]
      .map(([k, v]) => [k, this.#waitSamples ? (v / this.#waitSamples) * 100 : 0] as [string, number])
      .sort((a, b) => b[1] - a[1]);
    const ours = Object.values(cpu).reduce((a, b) => a + b, 0) + pct(pgTicks);
    const others = Math.max(0, machine * availableParallelism() - ours);
    return { seconds, cpu, mainThread, rssMaxKb: Object.fromEntries(this.#rssMax), postgres: pct(pgTicks), machine, others, waits };
  }
}

/** "api 97% (loop 88%) · pg 61% · lg 18% · machine 95% · waits: Lock:advisory 40%, CPU 35%" */
export function describeResources(report: ResourceReport | undefined): string {
  if (!report) return "";
  const parts: string[] = [];
  for (const [name, value] of Object.entries(report.cpu)) {
    const loop = report.mainThread[name];
    parts.push(`${name} ${value.toFixed(0)}%${loop !== undefined ? ` (loop ${loop.toFixed(0)}%)` : ""}`);
  }
  parts.push(`pg ${report.postgres.toFixed(0)}%`);
  parts.push(`other processes ${report.others.toFixed(0)}%`);
  parts.push(`machine ${report.machine.toFixed(0)}% busy`);
  const waits = report.waits.slice(0, 3).map(([k, v]) => `${k} ${v.toFixed(0)}%`).join(", ");
  if (waits) parts.push(`pg busy backends: ${waits}`);
  return parts.join(" · ");
}

