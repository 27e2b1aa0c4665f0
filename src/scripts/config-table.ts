/**
 * Prints the README's configuration table from the config schema (`npm run config:table`),
 * so the documentation cannot drift from what the server reads; a test compares them.
 */
import { envSchema } from "../config/config.js";

export function configTable(): string {
  const rows = Object.entries(envSchema.shape).map(([name, field]) => {
    const description = (field as { description?: string }).description ?? "";
    const parsed = (field as { safeParse(v: unknown): { success: boolean; data?: unknown } }).safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? `\`${String(parsed.data)}\`` : "";
    return `| \`${name}\` | ${fallback} | ${description.replaceAll("|", "\\|")} |`;
  });
  return ["| Variable | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n");
}

/** README.md with its configuration section replaced by the current table. */
export function withConfigTable(readme: string): string {
  return readme.replace(/(<!-- config-table:start -->\n)[\s\S]*?(\n<!-- config-table:end -->)/, `$1${configTable()}$2`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  if (process.argv.includes("--write")) {
    const { readFileSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { PROJECT_ROOT } = await import("../kit/paths.js");
    const file = join(PROJECT_ROOT, "README.md");
    writeFileSync(file, withConfigTable(readFileSync(file, "utf8")));
    process.stdout.write("README.md configuration table updated\n");
  } else {
    process.stdout.write(configTable() + "\n");
  }
}
