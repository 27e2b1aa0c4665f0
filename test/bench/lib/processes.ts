/**
 * Child processes of a run: API instances (the real entry point as deployed: the compiled
 * build, `npm run start:prod`, built once per run), baseline servers and the load generator. Every child is tracked so the
 * orchestrator can stop exactly the processes it started, by pid, on success or failure.
 */
import { execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const COUNT_WRITES = fileURLToPath(new URL("./count-writes.cjs", import.meta.url));
export const BENCH_JWT_SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
export const BENCH_WEBHOOK_SECRET = "bench-webhook-secret-0123456789";
export const WEBHOOK_HEADER = "x-hms-webhook-secret";

const started = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL after SIGTERM grace); used on exit paths. */
export async function killAllStarted(): Promise<void> {
  await Promise.all([...started].map((child) => stopChild(child, 2000)));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess, output: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before ${url} answered:\n${output()}`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${output()}`);
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      started.delete(child);
      resolve();
      return;
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      started.delete(child);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export interface ServerProcess {
  url: string;
  pid: number;
  /** Where SIGUSR2 heap snapshots land, when started with `heapDir`. */
  heapDir?: string;
  output(): string;
  stop(): Promise<void>;
}

export interface ApiOptions {
  databaseUrl: string;
  env?: Record<string, string>;
  /** Directory for `--cpu-prof` output; absent = no profiling. */
  cpuProfDir?: string;
  /** Directory for heap snapshots taken on SIGUSR2; absent = none. */
  heapDir?: string;
  name?: string;
}

/**
 * `npm run start:prod`'s command line (package.json), node flags included: `node <these>`. The
 * compiled build, as the image runs it: `npm start` runs the sources through tsx, whose loader
 * holds ~100 MB more at idle (230 against 128 MB) and is not what anyone deploys.
 */
const START_ARGS = (() => {
  const start = (JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")) as { scripts: { "start:prod": string } }).scripts["start:prod"];
  const [command, ...args] = start.split(/\s+/);
  if (command !== "node") throw new Error(`npm run start:prod is expected to run node, not: ${start}`);
  return args;
})();

let built = false;

/** Compiles src/ into dist/ once per run, so the build measured is the code checked out. */
function ensureBuilt(): void {
  if (built) return;
  execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  built = true;
}

/** The real entry point, as `npm run start:prod` runs it, on a free loopback port. */
export async function startApiProcess(options: ApiOptions): Promise<ServerProcess> {
  ensureBuilt();
  const port = await freePort();
  const clean: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(clean)) {
    if (/^(DATABASE_|TEST_DATABASE_URL|AUTH_|HMS_|NODE_ENV|PORT|EMBEDDED_DATA_DIR|VITEST|RATE_LIMIT_|WS_|LOG_LEVEL)/.test(key)) delete clean[key];
  }
  const env: Record<string, string | undefined> = {
    ...clean,
    // As deployed: production mode (graphql-js also drops its development-only checks).
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    DATABASE_URL: options.databaseUrl,
    AUTH_JWT_SECRET: BENCH_JWT_SECRET,
    HMS_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
    LOG_LEVEL: "warn",
    PORT: String(port),
    RECONCILE_INTERVAL_SECONDS: "0",
    RATE_LIMIT_MUTATIONS_PER_MINUTE: "100000",
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000",
    RATE_LIMIT_WEBHOOK_FAILURES_PER_MINUTE: "100000",
    SHUTDOWN_TIMEOUT_MS: "3000",
    ...options.env,
  };
  // One directory per instance: node writes a profile per thread (main, and the apply thread if any).
  const profDir = options.cpuProfDir ? `${options.cpuProfDir}/${options.name ?? "api"}-${port}` : undefined;
  // With the profile, the socket writes the instance makes (count-writes.cjs).
  const prof = profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`, "--require", COUNT_WRITES] : [];
  if (profDir) env.BENCH_WRITES_FILE = `${profDir}/writes.json`;
  const heapDir = options.heapDir ? `${options.heapDir}/${options.name ?? "api"}-${port}` : undefined;
  if (heapDir) {
    mkdirSync(heapDir, { recursive: true });
    prof.push("--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${heapDir}`);
  }
  const child = spawn(process.execPath, [...prof, ...START_ARGS], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const server = await track(child, `http://127.0.0.1:${port}`, "/healthz", 8000);
  return heapDir ? { ...server, heapDir } : server;
}

/** The bare baseline servers (test/bench/baseline-server.ts) in their own process. */
export async function startBaselineProcess(databaseUrl: string): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "test/bench/baseline-server.ts"], {
    cwd: ROOT,
    env: { ...process.env, BENCH_DATABASE_URL: databaseUrl, BENCH_PORT: String(port), AUTH_JWT_SECRET: BENCH_JWT_SECRET, HMS_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return track(child, `http://127.0.0.1:${port}`, "/healthz", 3000);
}

/**
 * The peer (test/bench/postgraphile/server.mjs, scenario 12): PostGraphile in its own process,
 * in production mode like the API, connecting as `databaseUrl` (its authenticator role) with a
 * pool of `poolMax`, requests running as `role`.
 */
export async function startPostGraphileProcess(options: { databaseUrl: string; role: string; poolMax: number }): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ["test/bench/postgraphile/server.mjs"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      BENCH_DATABASE_URL: options.databaseUrl,
      BENCH_PORT: String(port),
      BENCH_PG_ROLE: options.role,
      BENCH_POOL_MAX: String(options.poolMax),
      AUTH_JWT_SECRET: BENCH_JWT_SECRET,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return track(child, `http://127.0.0.1:${port}`, "/healthz", 3000);
}

async function track(child: ChildProcess, url: string, healthPath: string, graceMs: number): Promise<ServerProcess> {
  started.add(child);
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  await waitHealthy(url + healthPath, child, () => output);
  return { url, pid: child.pid!, output: () => output, stop: () => stopChild(child, graceMs) };
}

export interface Loadgen {
  pid: number;
  call<T = unknown>(command: string, args?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** The load generator: a separate node process driven over IPC (test/bench/loadgen.ts). */
export async function startLoadgen(): Promise<Loadgen> {
  const child = fork(fileURLToPath(new URL("../loadgen.ts", import.meta.url)), [], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  started.add(child);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 1;
  child.on("message", (message: { id: number; ok: boolean; result?: unknown; error?: string }) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(new Error(`loadgen: ${message.error}`));
  });
  child.once("exit", (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`loadgen exited (${code})`));
    pending.clear();
  });
  const call = <T>(command: string, args?: unknown) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, command, args });
    });
  await call("ping");
  return { pid: child.pid!, call, stop: () => stopChild(child, 2000) };
}
