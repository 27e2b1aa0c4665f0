/**
 * Prints the README's configuration table from the config schema (`npm run config:table`),
 * so the documentation cannot drift from what the server reads; a test compares them.
 */
import { envSchema } from "../config.js";

export function configTable(): string {
  const rows = Object.entries(envSchema.shape).map(([name, field]) => {
    const description = (field as { description?: string }).description ?? "";
    const parsed = (field as { safeParse(v: unknown): { success: boolean; data?: unknown } }).safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? `\`${String(parsed.data)}\`` : "";
    return `| \`${name}\` | ${fallback} | ${description.replaceAll("|", "\\|")} |`;
  });
  return ["| Variable | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n");
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  process.stdout.write(configTable() + "\n");
}
