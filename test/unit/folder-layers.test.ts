/**
 * src/'s folders form layers (.ci/folder-layers.mjs, run by CI as `npm run lint:layers`): the
 * real tree has no folder cycle over value imports, and one probe import from a bottom folder
 * to the top one is caught, with the import that closes the circle named. Type-only imports
 * do not count: they vanish from the compiled code.
 */
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module of the CI scripts, without type declarations
import { cruise, folderCycles, folderGraph, layerOrder } from "../../.ci/folder-layers.mjs";

interface Module {
  source: string;
  dependencies: Array<{ resolved: string; dependencyTypes: string[] }>;
}

const modules: Module[] = cruise();

const withProbe = (dependencyTypes: string[]): Module[] => [
  ...modules,
  { source: "src/kit/probe.ts", dependencies: [{ resolved: "src/app/app.ts", dependencyTypes }] },
];

describe("src/ folders", () => {
  it("form layers: no folder reaches itself through another", () => {
    expect(folderCycles(folderGraph(modules))).toEqual([]);
  });

  it("keep the composition on top and the shared kit at the bottom", () => {
    const order: string[] = layerOrder(folderGraph(modules));
    expect(order.at(-1)).toBe("scripts");
    expect(order.indexOf("app")).toBeGreaterThan(order.indexOf("transport"));
    expect(order.indexOf("kit")).toBeLessThan(order.indexOf("db"));
  });

  it("fail on a probe import from kit/ to app/, naming the import that closes the circle", () => {
    const cycles: Array<{ folders: string[]; imports: string[] }> = folderCycles(folderGraph(withProbe(["local", "import"])));
    expect(cycles).toHaveLength(1);
    expect(cycles[0]!.folders).toEqual(expect.arrayContaining(["kit", "app"]));
    expect(cycles[0]!.imports).toContain("src/kit/probe.ts -> src/app/app.ts");
  });

  it("leave a type-only probe import alone", () => {
    expect(folderCycles(folderGraph(withProbe(["local", "type-only", "import"])))).toEqual([]);
  });
});
