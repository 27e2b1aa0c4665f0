#!/usr/bin/env node
/**
 * The folders of src/ form layers: over value imports (type-only imports left out, since they
 * vanish from the compiled code), no folder may reach itself through another. A file directly
 * under src/ counts as a folder of its own. dependency-cruiser (the project's architecture
 * checker, `npm run lint:deps`) reads the imports; this collapses them to folders and looks
 * for a cycle, printing each with one import per step.
 *
 *   node .ci/folder-layers.mjs            check src/ (exit 1 on a cycle)
 *   node .ci/folder-layers.mjs --order    also print the folders bottom-up
 *
 * `folderCycles` is exported for the test that shows a probe import closing a cycle.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** `src/a/b.ts` -> `a`; `src/main.ts` -> `main.ts`. */
export function folderOf(path) {
  const parts = path.split("/");
  return parts.length > 2 ? parts[1] : parts[1] ?? path;
}

/** Value imports between different folders: Map<from, Map<to, "file -> file">>. */
export function folderGraph(modules) {
  const graph = new Map();
  for (const module of modules) {
    if (!module.source.startsWith("src/")) continue;
    for (const dependency of module.dependencies ?? []) {
      const target = dependency.resolved;
      if (!target?.startsWith("src/") || dependency.dependencyTypes.includes("type-only")) continue;
      const [from, to] = [folderOf(module.source), folderOf(target)];
      if (from === to) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      if (!graph.get(from).has(to)) graph.get(from).set(to, `${module.source} -> ${target}`);
    }
  }
  return graph;
}

/** Every strongly connected set of two folders or more (Tarjan), each as its folders and the imports that tie them. */
export function folderCycles(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const cycles = [];
  let next = 0;
  const visit = (node) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node)?.keys() ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node), low.get(target)));
      } else if (onStack.has(target)) low.set(node, Math.min(low.get(node), index.get(target)));
    }
    if (low.get(node) !== index.get(node)) return;
    const members = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      members.push(member);
    } while (member !== node);
    if (members.length > 1) {
      const inside = new Set(members);
      const imports = members.flatMap((from) => [...(graph.get(from) ?? [])].filter(([to]) => inside.has(to)).map(([, example]) => example));
      cycles.push({ folders: members.sort(), imports: imports.sort() });
    }
  };
  const nodes = new Set([...graph.keys(), ...[...graph.values()].flatMap((targets) => [...targets.keys()])]);
  for (const node of [...nodes].sort()) if (!index.has(node)) visit(node);
  return cycles;
}

/** Folders bottom-up: each after everything it imports (only meaningful without cycles). */
export function layerOrder(graph) {
  const order = [];
  const seen = new Set();
  const visit = (node) => {
    if (seen.has(node)) return;
    seen.add(node);
    for (const target of [...(graph.get(node)?.keys() ?? [])].sort()) visit(target);
    order.push(node);
  };
  for (const node of [...graph.keys()].sort()) visit(node);
  return order;
}

export function cruise() {
  const json = execFileSync("npx", ["depcruise", "src", "--config", ".dependency-cruiser.cjs", "--output-type", "json"], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(json).modules;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const graph = folderGraph(cruise());
  const cycles = folderCycles(graph);
  for (const cycle of cycles) {
    console.error(`folders importing each other in a circle: ${cycle.folders.join(", ")}`);
    for (const example of cycle.imports) console.error(`  ${example}`);
  }
  if (process.argv.includes("--order") && cycles.length === 0) console.log(`bottom-up: ${layerOrder(graph).join(" < ")}`);
  if (cycles.length > 0) process.exit(1);
  console.log(`src/ folders form layers: ${graph.size} folders, no cycle over value imports`);
}
