/**
 * A private PostgreSQL cluster for fault tests (restart it, kill it) without touching the
 * machine's shared server, which other test files use at the same time. Needs the server
 * binaries (Debian's postgresql package) and root (initdb then runs as `postgres`).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

function binDir(): string | null {
  for (const version of ["17", "16", "15", "14"]) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (existsSync(join(dir, "initdb"))) return dir;
  }
  return null;
}

/** Why a private cluster cannot run here, or null when it can. */
export function privatePostgresUnavailable(): string | null {
  if (!binDir()) return "no PostgreSQL server binaries";
  if (process.getuid?.() !== 0) return "not root (initdb must run as the postgres user)";
  return null;
}

export interface PrivatePostgres {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir()!;
  const dir = await mkdtemp(join(tmpdir(), "pg-private-"));
  await chown(dir, 101, 104).catch(async () => {
    await run("chown", ["postgres:postgres", dir]);
  });
  const asPostgres = (cmd: string, args: string[]) => run("runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]);
  await asPostgres("initdb", ["-D", join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync"]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`; // fsync off: a process kill keeps the OS cache; never synchronous_commit=off (it loses commits)
  const start = async () => {
    await asPostgres("pg_ctl", ["-D", join(dir, "data"), "-o", options, "-l", join(dir, "log"), "-w", "start"]);
  };
  const stop = async () => {
    await asPostgres("pg_ctl", ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"]);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    destroy: async () => {
      await stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
