/**
 * Settings from a `.env` file (KEY=value lines, see .env.example), read once at start by the
 * entry points before the configuration is parsed. The real environment always wins: a
 * variable already set is never replaced by the file's value, so a deployment's settings
 * cannot be overridden by a file left in the image or the working directory.
 *
 * Which file: `ENV_FILE` when set (an empty value reads none), else `.env` in the working
 * directory, which may be absent.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";

export type EnvFileResult =
  | { read: true; file: string }
  | { read: false; reason: "absent" | "disabled" | "unsupported"; file?: string };

/**
 * Reads the env file into `process.env` (without replacing what is set). Throws when
 * `ENV_FILE` names a file that does not exist or does not parse.
 */
export function loadEnvFile(cwd: string = process.cwd()): EnvFileResult {
  const named = process.env.ENV_FILE;
  if (named !== undefined && named.trim() === "") return { read: false, reason: "disabled" };
  const file = resolve(cwd, named ?? ".env");
  if (!existsSync(file)) {
    if (named !== undefined) throw new Error(`ENV_FILE: ${file} does not exist`);
    return { read: false, reason: "absent" };
  }
  // process.loadEnvFile arrived in Node.js 20.12; package.json allows 20.10.
  if (typeof process.loadEnvFile !== "function") return { read: false, reason: "unsupported", file };
  const before = { ...process.env };
  process.loadEnvFile(file);
  for (const [key, value] of Object.entries(before)) process.env[key] = value;
  return { read: true, file };
}

/** Loads the env file for a command-line entry point; on a bad ENV_FILE, says so and exits 78. */
export function loadEnvFileOrExit(): EnvFileResult {
  try {
    const result = loadEnvFile();
    if (!result.read && result.reason === "unsupported") {
      process.stderr.write(`${result.file} is not read: Node.js ${process.versions.node} has no process.loadEnvFile (20.12 or later does); export its settings instead.\n`);
    }
    return result;
  } catch (error) {
    process.stderr.write(`Invalid configuration: ${(error as Error).message}\n`);
    process.exit(78);
  }
}
