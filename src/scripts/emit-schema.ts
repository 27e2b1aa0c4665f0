/**
 * `npm run schema:emit` writes schema/schema.graphql from the resolvers;
 * `--check` only compares and exits 1 when the committed file is stale.
 */
import "reflect-metadata";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildApiSchema, printApiSchema } from "../app/schema.js";
import { PROJECT_ROOT } from "../kit/paths.js";

const target = join(PROJECT_ROOT, "schema", "schema.graphql");
const sdl = printApiSchema(await buildApiSchema());

if (process.argv.includes("--check")) {
  const committed = await readFile(target, "utf8").catch(() => "");
  if (committed !== sdl) {
    process.stderr.write("schema/schema.graphql is stale: run `npm run schema:emit` and commit it.\n");
    process.exit(1);
  }
  process.stdout.write("schema/schema.graphql is up to date.\n");
} else {
  await writeFile(target, sdl);
  process.stdout.write(`Wrote ${target}\n`);
}
