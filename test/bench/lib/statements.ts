/** Runs test/bench/count-statements.ts (in its own process) and returns what it counted. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { BENCH_JWT_SECRET, BENCH_WEBHOOK_SECRET, ROOT } from "./processes.js";

export async function countStatements<T>(databaseUrl: string, env: Record<string, string>): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "test/bench/count-statements.ts"], {
    cwd: ROOT,
    env: { ...process.env, BENCH_DATABASE_URL: databaseUrl, AUTH_JWT_SECRET: BENCH_JWT_SECRET, HMS_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET, ...env },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as T;
}
