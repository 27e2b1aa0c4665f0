/**
 * The bench's peer, PostGraphile (test/bench/postgraphile/, scenario 12): installed into its
 * own folder on first use (never a dependency of the API), and its database side (roles,
 * grants, row-level security, computed columns: setup.sql) applied to a bench database.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { envSchema } from "../../../src/config/env.schema.js";
import { dropRolesWith, type BenchDatabase } from "./database.js";
import { ROOT } from "./processes.js";

const DIR = join(ROOT, "test/bench/postgraphile");

/** The API's pool size (DATABASE_POOL_MAX's default, which the bench's API runs with): the peer gets the same. */
export const API_POOL_MAX: number = envSchema.shape.DATABASE_POOL_MAX.parse(undefined);

function versionIn(path: string): string | null {
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as { version?: string }).version ?? null : null;
}

/** The pinned PostGraphile version (its package.json). */
export function pinnedVersion(): string {
  return (JSON.parse(readFileSync(join(DIR, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies.postgraphile!;
}

/**
 * `npm ci` in test/bench/postgraphile/ (its own package-lock.json) unless the pinned version is
 * already installed there. About 20 s and 300 MB (grafserv brings its GraphiQL) the first time.
 */
export async function ensurePostGraphileInstalled(log: (m: string) => void): Promise<string> {
  const pinned = pinnedVersion();
  if (versionIn(join(DIR, "node_modules/postgraphile/package.json")) === pinned) return pinned;
  log(`installing PostGraphile ${pinned} into test/bench/postgraphile/node_modules (first use; npm ci)`);
  try {
    await promisify(execFile)("npm", ["ci", "--no-audit", "--no-fund", "--prefix", DIR], { cwd: DIR, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`npm ci in test/bench/postgraphile failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
  const installed = versionIn(join(DIR, "node_modules/postgraphile/package.json"));
  if (installed !== pinned) throw new Error(`npm ci installed postgraphile ${installed}, expected ${pinned}`);
  return pinned;
}

export interface PeerDatabase {
  /** The authenticator's connection string (the role PostGraphile logs in as; no privileges of its own). */
  url: string;
  /** The role every authenticated request runs as (`set local role`), under row-level security. */
  role: string;
}

/**
 * Applies setup.sql to the bench database, with roles named after it (dropped with it). Call
 * after the seed: the policies and functions read the clinic's tables as they are.
 */
export async function applyPostGraphileSetup(db: BenchDatabase): Promise<PeerDatabase> {
  const authenticator = `${db.name}_pgl_auth`;
  const viewer = `${db.name}_pgl_viewer`;
  dropRolesWith(db.name, [authenticator, viewer]);
  // A password of its own, in case the server wants one (the bench's own URL may carry another).
  const password = randomBytes(16).toString("hex");
  const text = readFileSync(join(DIR, "setup.sql"), "utf8")
    .replaceAll("__AUTHENTICATOR__", authenticator)
    .replaceAll("__VIEWER__", viewer)
    .replaceAll("__PASSWORD__", password);
  await db.sql.unsafe(text);
  const url = new URL(db.url);
  url.username = authenticator;
  url.password = password;
  return { url: url.toString(), role: viewer };
}
