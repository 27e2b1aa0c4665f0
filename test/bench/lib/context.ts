/** What the orchestrator gives each scenario, and the rows a scenario gives back. */
import type { BenchDatabase } from "./database.js";
import type { Loadgen, ServerProcess } from "./processes.js";
import type { ResourceReport, ResourceSampler } from "./resources.js";

export interface Row {
  scenario: string;
  metric: string;
  ours: number | null;
  baseline: number | null;
  unit: string;
  /** Shown instead of the numbers when set (e.g. "n/a: pg_stat_statements not loaded"). */
  oursText?: string;
  baselineText?: string;
  /**
   * A peer's figure (scenario 12: PostGraphile), shown in its own columns beside ours; the
   * columns appear only when some row has one.
   */
  peer?: number | null;
  peerText?: string;
  /** `detail` follows yes/MISSED in the Met column (which of several parts missed). */
  target?: { text: string; met: boolean; detail?: string };
  /** What the resource samples say about this row's figure (ours, and the baseline's). */
  resources?: ResourceReport;
  baselineResources?: ResourceReport;
  peerResources?: ResourceReport;
  note?: string;
}

export interface ScenarioContext {
  quick: boolean;
  /** `--soak=<minutes>` (scenario 10), default 2 (0.5 with --quick); 0 = skip the soak. */
  soakMinutes: number;
  /** `--cpu-prof` directory for API processes when profiling, else null. */
  profileDir: string | null;
  /** `--heap`: API processes write heap snapshots on SIGUSR2 under this directory, else null. */
  heapDir: string | null;
  log(message: string): void;
  newDatabase(): Promise<BenchDatabase>;
  startApi(db: BenchDatabase, env?: Record<string, string>, name?: string): Promise<ServerProcess>;
  startBaseline(db: BenchDatabase): Promise<ServerProcess>;
  startLoadgen(): Promise<Loadgen>;
  /**
   * Waits (bounded) for the machine to be quiet, then starts sampling CPU of these processes
   * and of the database's backends: call it right before each measured phase.
   */
  sample(processes: Record<string, number>, db: BenchDatabase): Promise<ResourceSampler>;
}

export interface Scenario {
  id: number;
  name: string;
  /** Most sockets it holds at once: the run is skipped unless `ulimit -n` allows that many plus 500. */
  sockets?: number;
  run(ctx: ScenarioContext): Promise<Row[]>;
}

/** Resolves once the query returns `count` or more, polling; rejects after timeoutMs. */
export async function waitForCount(read: () => Promise<number>, count: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < deadline) {
    seen = await read();
    if (seen >= count) return seen;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`waited ${timeoutMs} ms for ${count}, saw ${seen}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
