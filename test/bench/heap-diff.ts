/**
 * What grew on the V8 heap between two snapshots of the API, grouped by constructor, per unit:
 * per subscribed socket (scenario 6: before any socket, and with N sockets) or per minute
 * (scenario 10: after the warm-up, and at the end of the soak). Used under `--heap`; also a
 * CLI: `tsx test/bench/heap-diff.ts before after N`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join as joinPath } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "./lib/context.js";
import type { ServerProcess } from "./lib/processes.js";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count per "type:name" (objects and closures by constructor/function name). */
function groups(path: string): { total: number; by: Map<string, { bytes: number; count: number }> } {
  const snap = JSON.parse(readFileSync(path, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const by = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const size = snap.nodes[i + sizeAt]!;
    total += size;
    const name = type === "object" || type === "closure" || type === "native" ? snap.strings[snap.nodes[i + nameAt]!]! : "";
    const key = name ? `${type}:${name.slice(0, 60)}` : type;
    const group = by.get(key) ?? { bytes: 0, count: 0 };
    group.bytes += size;
    group.count++;
    by.set(key, group);
  }
  return { total, by };
}

export function heapDiff(beforePath: string, afterPath: string, units: number, top = 15, unit = "socket"): string[] {
  const before = groups(beforePath);
  const after = groups(afterPath);
  const rows = [...after.by.entries()]
    .map(([key, a]) => {
      const b = before.by.get(key) ?? { bytes: 0, count: 0 };
      return { key, bytes: (a.bytes - b.bytes) / units, count: (a.count - b.count) / units };
    })
    .sort((x, y) => y.bytes - x.bytes);
  return [
    `  V8 heap (live objects in the snapshots) grew ${((after.total - before.total) / units / 1024).toFixed(1)} KB per ${unit}; largest per ${unit}:`,
    ...rows.slice(0, top).map((r) => `    ${(r.bytes / 1024).toFixed(2).padStart(6)} KB  ${r.count.toFixed(1).padStart(6)} objects  ${r.key}`),
  ];
}

/** Signals the API (started with a `heapDir`) to write a heap snapshot and waits until the file is complete. */
export async function heapSnapshot(server: ServerProcess): Promise<string> {
  const dir = server.heapDir!;
  const list = () => { try { return readdirSync(dir).filter((f) => f.endsWith(".heapsnapshot")); } catch { return []; } };
  const before = new Set(list());
  process.kill(server.pid, "SIGUSR2");
  for (let i = 0; i < 120; i++) {
    await sleep(500);
    const file = list().find((f) => !before.has(f));
    if (!file) continue;
    const path = joinPath(dir, file);
    const size = statSync(path).size;
    await sleep(1000);
    if (size > 0 && statSync(path).size === size) return path;
  }
  throw new Error("heap snapshot not written");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [before, after, sockets] = process.argv.slice(2);
  process.stdout.write(heapDiff(before!, after!, Number(sockets)).join("\n") + "\n");
}
