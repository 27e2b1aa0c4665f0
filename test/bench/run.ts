/**
 * `npm run bench`: the product against the floor, side by side, on this machine.
 *
 * For each scenario (test/bench/scenarios/*), a fresh PostgreSQL database is created and
 * seeded, API instances run as the real entry point (`node --import tsx src/app/main.ts`) on
 * loopback, a separate load-generator process (test/bench/loadgen.ts) drives them, and the
 * same load is sent to a bare baseline server (test/bench/baseline-server.ts). One table
 * goes to stdout; progress to stderr.
 *
 *   npm run bench                     everything (about 14 minutes on 2 cores)
 *   npm run bench -- --only=1,4       some scenarios
 *   npm run bench -- --quick          shorter runs
 *   npm run bench -- --profile        API processes under --cpu-prof, with a summary of each
 *   npm run bench -- --heap --only=6  heap snapshots of the API before and with 1,000 sockets, diffed
 *   npm run bench -- --soak=10        scenario 10 soaks 10 minutes (default 2; 0 skips it)
 *   npm run bench -- --only=12        push latency with tracing on and off (not in the default run)
 *
 * BENCH_DATABASE_URL (else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
 * names the server; databases are created there and dropped afterwards.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import postgres from "postgres";
import { createBenchDatabase, dropAllCreated } from "./lib/database.js";
import type { Row, Scenario, ScenarioContext } from "./lib/context.js";
import { killAllStarted, ROOT, startApiProcess, startBaselineProcess, startLoadgen } from "./lib/processes.js";
import { machineTicks, ResourceSampler } from "./lib/resources.js";
import { renderTable } from "./lib/table.js";
import { profileBusyMicros, summarizeProfile } from "./profile-summary.js";
import { broadcast } from "./scenarios/broadcast.js";
import { dashboard } from "./scenarios/dashboard.js";
import { idle } from "./scenarios/idle.js";
import { ingest } from "./scenarios/ingest.js";
import { join } from "./scenarios/join.js";
import { peer } from "./scenarios/peer.js";
import { push } from "./scenarios/push.js";
import { pushTraced } from "./scenarios/push-traced.js";
import { resume } from "./scenarios/resume.js";
import { partners } from "./scenarios/partners.js";
import { scaleOut } from "./scenarios/scale-out.js";
import { slowConsumer } from "./scenarios/slow-consumer.js";
import { slowDatabase } from "./scenarios/slow-database.js";
import { soak } from "./scenarios/soak.js";
import { storm } from "./scenarios/storm.js";

const SCENARIOS: Scenario[] = [ingest, dashboard, join, push, broadcast, idle, resume, storm, slowConsumer, soak, scaleOut, pushTraced, peer, partners, slowDatabase];
/** A scenario holding N sockets needs N descriptors in the load generator and in the server, plus their own. */
const FDS_SPARE = 500;

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",").map(Number);
const profileDir = args.includes("--profile") ? joinPath(tmpdir(), `bench-profiles-${Date.now()}`) : null;
const heapDir = args.includes("--heap") ? joinPath(tmpdir(), `bench-heap-${Date.now()}`) : null;
const soakArg = args.find((a) => a.startsWith("--soak="))?.slice("--soak=".length);
const soakMinutes = soakArg === undefined ? (quick ? 0.5 : 2) : Number(soakArg);
const serverUrl = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

const log = (message: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${message}\n`);
const t0 = performance.now();

function sh(command: string, argv: string[]): string {
  try {
    return execFileSync(command, argv, { encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
}

function openFilesLimit(): number {
  const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === "unlimited" ? Number.POSITIVE_INFINITY : Number(soft);
}

async function main(): Promise<void> {
  const started = new Date();
  const memLine = sh("free", ["-h"]).split("\n").find((l) => l.startsWith("Mem:"))?.replace(/\s+/g, " ") ?? "?";
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  const [version] = await admin<{ v: string }[]>`select split_part(version(), ' ', 2) as v`;
  const [stmts] = await admin<{ on: boolean }[]>`select current_setting('shared_preload_libraries') like '%pg_stat_statements%' as on`;
  await admin.end();
  const header = [
    `Consultation API benchmarks — ${started.toISOString().replace("T", " ").slice(0, 16)} UTC`,
    `Machine: nproc ${sh("nproc", [])}; free -h: ${memLine}; load average at start ${sh("cat", ["/proc/loadavg"]).split(" ").slice(0, 3).join(" ")}`,
    `Code measured: src/ at commit ${sh("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"])}` +
      ` (${sh("git", ["-C", ROOT, "status", "--porcelain", "--", "src"]).split("\n").filter((l) => l.trim()).length} uncommitted changes under src/ at start)`,
    `Node ${process.version}, PostgreSQL ${version!.v} (${serverUrl.replace(/\/\/[^@]*@/, "//")}), pg_stat_statements ${stmts!.on ? "loaded" : "not loaded"}${quick ? "; --quick" : ""}${profileDir ? "; --profile (figures include profiler overhead)" : ""}${heapDir ? "; --heap (RSS figures disturbed by the snapshots' GC)" : ""}`,
    `Flags: ${args.length ? args.join(" ") : "(none)"}; soak ${soakMinutes} min` +
      ["BENCH_PUSH_DASHBOARDS", "BENCH_BROADCAST_SOCKETS"].filter((k) => process.env[k]).map((k) => `; ${k}=${process.env[k]}`).join(""),
    "Ratio = ours ÷ baseline (for rates, higher is better; for latencies and memory, lower is better).",
  ];
  const limit = openFilesLimit();
  // Tracing's cost (12) runs when asked for: --only=12.
  const selected = SCENARIOS.filter((s) => (only ? only.includes(s.id) : s !== pushTraced)).filter((s) => {
    const needed = (s.sockets ?? 0) + FDS_SPARE;
    if (s.sockets && limit < needed) {
      const n = s.sockets.toLocaleString("en-US");
      process.stderr.write(
        `\n*** ulimit -n is ${limit}: scenario ${s.id} (${n} sockets) needs at least ${needed} open files per process ` +
          `(${n} socket ends in the load generator and ${n} in the server, plus the server's own). ` +
          `Raise it (e.g. \`ulimit -n 20000\`) and run again; skipping scenario ${s.id}.\n\n`,
      );
      return false;
    }
    return true;
  });
  log(`open files limit ${limit}; scenarios ${selected.map((s) => s.id).join(", ")}${profileDir ? `; profiles in ${profileDir}` : ""}`);
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  const rows: Row[] = [];
  const footer: string[] = [];
  for (const scenario of selected) {
    const scenarioStart = performance.now();
    log(`${scenario.id}. ${scenario.name}`);
    const ctx: ScenarioContext = {
      quick,
      soakMinutes,
      profileDir,
      heapDir,
      log: (m) => log(`  ${m}`),
      newDatabase: () => createBenchDatabase(serverUrl),
      startApi: (db, env, name) => startApiProcess({ databaseUrl: db.url, env, cpuProfDir: profileDir ?? undefined, heapDir: heapDir ?? undefined, name: name ?? `s${scenario.id}` }),
      startBaseline: (db) => startBaselineProcess(db.url),
      startLoadgen: () => startLoadgen(),
      sample: async (processes, db) => {
        await quiet((m) => log(`  ${m}`));
        return new ResourceSampler(processes, db.sql, db.name).start();
      },
    };
    try {
      rows.push(...(await scenario.run(ctx)));
    } catch (error) {
      log(`  FAILED: ${(error as Error).stack ?? error}`);
      rows.push({ scenario: `${scenario.id} ${scenario.name}`, metric: "(failed)", ours: null, baseline: null, unit: "", note: `failed: ${(error as Error).message.slice(0, 300)}` });
    } finally {
      await killAllStarted();
    }
    footer.push(`scenario ${scenario.id} took ${((performance.now() - scenarioStart) / 1000).toFixed(0)} s`);
  }
  if (profileDir) {
    for (const instance of readdirSync(profileDir).sort()) {
      // The main thread's profile: the busiest of the instance's threads.
      const dir = joinPath(profileDir, instance);
      const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).map((f) => joinPath(dir, f));
      const main = files.map((f) => ({ f, busy: profileBusyMicros(f) })).sort((a, b) => b.busy - a.busy)[0];
      if (main) footer.push("", `Profile of API instance ${instance}, main thread (${main.f}):`, ...summarizeProfile(main.f, 15));
      const writes = joinPath(dir, "writes.json");
      if (existsSync(writes)) footer.push(`  socket writes: ${describeWrites(JSON.parse(readFileSync(writes, "utf8")) as WriteCounts)}`);
    }
  }
  footer.push(`Whole run: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  process.stdout.write(renderTable(rows, header, footer) + "\n");
}

/**
 * Other work on the machine (other people's test runs) distorts every figure: before each
 * measured phase, wait up to 8 s for a second in which the machine is less than 25% busy.
 * Whatever remains shows as "other processes" in the table.
 */
async function quiet(say: (m: string) => void): Promise<void> {
  const deadline = performance.now() + 8000;
  for (;;) {
    const a = machineTicks();
    await new Promise((r) => setTimeout(r, 1000));
    const b = machineTicks();
    const busy = ((b.busy - a.busy) / Math.max(1, b.total - a.total)) * 100;
    if (busy < 25) return;
    if (performance.now() > deadline) {
      say(`machine still ${busy.toFixed(0)}% busy before measuring (other processes); measuring anyway`);
      return;
    }
  }
}

async function cleanup() {
  await killAllStarted();
  await dropAllCreated();
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping children and dropping bench databases`);
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .catch((error: Error) => {
    log(`bench failed: ${error.stack ?? error.message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    log("done");
  });

type WriteCounts = Record<"postgres" | "other", { writes: number; bytes: number }>;

/** What lib/count-writes.cjs counted in one API process. */
function describeWrites(counts: WriteCounts): string {
  const one = ({ writes, bytes }: { writes: number; bytes: number }) =>
    `${writes.toLocaleString("en-US")} (${(bytes / 1e6).toFixed(1)} MB, ${writes ? Math.round(bytes / writes).toLocaleString("en-US") : 0} B each)`;
  return `to PostgreSQL ${one(counts.postgres)}, to clients ${one(counts.other)}`;
}
