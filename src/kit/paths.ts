import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The folder holding package.json, drizzle/ and schema/: found by walking up from this file,
 * so it is the same under tsx (src/) and compiled output (dist/src/).
 */
export const PROJECT_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "drizzle"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no project root above ${start}`);
  }
}
