/**
 * Summarizes a V8 `.cpuprofile` (node --cpu-prof): self time by function and by package,
 * and inclusive time of the project's own functions (src/), so a missed target can be
 * traced to code. Also a CLI: `tsx test/bench/profile-summary.ts <file.cpuprofile>…`.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) return url.slice(modules + "node_modules/".length);
  const src = url.indexOf("/src/");
  if (src >= 0 && !url.includes("node_modules")) return url.slice(src + 1);
  return url.replace(/^file:\/\//, "");
}

function packageOf(frame: ProfileNode["callFrame"]): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node internals";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = /\/src\/([^/]+)/.exec(url);
  if (src) return `src/${src[1]!.replace(/\.ts$/, "")}`;
  return shortUrl(url);
}

const label = (frame: ProfileNode["callFrame"]) =>
  `${frame.functionName || "(anonymous)"}${frame.url ? ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : ""}`;

/** Sampled time outside "(idle)", in microseconds. */
export function profileBusyMicros(path: string): number {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  return profile.samples.reduce((sum, id, i) => sum + (idle.has(id) ? 0 : (profile.timeDeltas[i] ?? 0)), 0);
}

export function summarizeProfile(path: string, top = 15): string[] {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const inclusiveSrc = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    byFunction.set(label(node.callFrame), (byFunction.get(label(node.callFrame)) ?? 0) + us);
    const pkg = packageOf(node.callFrame);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (frame.url.includes("/src/") && !frame.url.includes("node_modules")) seen.add(label(frame));
    }
    for (const key of seen) inclusiveSrc.set(key, (inclusiveSrc.get(key) ?? 0) + us);
  }
  const idle = byPackage.get("(idle)") ?? 0;
  const busy = total - idle;
  const pct = (us: number) => `${((us / Math.max(1, busy)) * 100).toFixed(1)}%`;
  const sorted = (m: Map<string, number>) => [...m.entries()].filter(([k]) => k !== "(idle)").sort((a, b) => b[1] - a[1]);
  return [
    `  sampled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (idle ${((idle / Math.max(1, total)) * 100).toFixed(0)}%); percentages below are of busy time`,
    `  by package (self): ${sorted(byPackage).slice(0, 10).map(([k, v]) => `${k} ${pct(v)}`).join(", ")}`,
    "  top functions (self):",
    ...sorted(byFunction).slice(0, top).map(([k, v]) => `    ${pct(v).padStart(6)}  ${k}`),
    "  src/ functions (inclusive):",
    ...sorted(inclusiveSrc).slice(0, 10).map(([k, v]) => `    ${pct(v).padStart(6)}  ${k}`),
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const file of process.argv.slice(2)) {
    process.stdout.write(`${file}\n${summarizeProfile(file, 25).join("\n")}\n\n`);
  }
}
