/**
 * The embedded PostgreSQL (PGlite) as the API starts it, tuned for memory: it runs inside
 * this process, in WebAssembly memory that never shrinks. Measurements and the reasons:
 * docs/operations.md, "The embedded database's memory".
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";

/**
 * PGlite's defaults, with `shared_buffers` at 16 MB instead of the 128 MB initdb picks.
 * PostgreSQL's shared memory lives in PGlite's WebAssembly memory, so the whole buffer pool
 * stays resident for the life of the process: with 128 MB that memory grew to 189 MB and a
 * restarted `npm start` held ~430 MB RSS; with 16 MB it stays at its 128 MB minimum and the
 * same start holds ~310 MB. The embedded database is the demo's and the tests': the demo's
 * whole database is 8.5 MB.
 */
const START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];

/** Opens PGlite on `dataDir` (created if need be), or in memory without one. */
export async function openPGlite(dataDir: string | undefined): Promise<PGlite> {
  if (dataDir) {
    await mkdir(dataDir, { recursive: true });
    if (!existsSync(join(dataDir, "PG_VERSION"))) await initDataDirApart(dataDir);
  }
  const client = new PGlite(dataDir, { startParams: START_PARAMS });
  await client.waitReady;
  return client;
}

/**
 * Creates a new data directory's cluster in a short-lived child process, so that this process
 * then simply opens it. PGlite runs initdb in a second WebAssembly instance and copies the
 * result over as a tarball; done in this process, that scratch memory (~500 MB) stayed
 * resident until V8 happened to run a full collection, which an idle server may never do: a
 * first `npm start` held ~930 MB. (A worker thread gave back only part of it.) A process
 * returns it all on exit.
 */
async function initDataDirApart(dataDir: string): Promise<void> {
  const source = `
    const [module, dataDir, startParams] = process.argv.slice(1);
    const { PGlite } = await import(module);
    const db = new PGlite(dataDir, { startParams: JSON.parse(startParams) });
    await db.waitReady;
    await db.close();`;
  const args = ["--input-type=module", "--eval", source, import.meta.resolve("@electric-sql/pglite"), dataDir, JSON.stringify(START_PARAMS)];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`could not initialise the embedded database in ${dataDir} (exit code ${code}): ${stderr.trim()}`);
}
