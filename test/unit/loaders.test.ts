/** The per-request loader: one batch per tick, and synchronous answers for what it already holds. */
import { describe, expect, it } from "vitest";
import { mapLoaded } from "../../src/kit/loaded.js";
import { Loader } from "../../src/live/loaders.js";

describe("Loader", () => {
  it("answers primed and already loaded keys synchronously, others with one batch", async () => {
    const batches: string[][] = [];
    const loader = new Loader<string, string | null>(async (keys) => {
      batches.push([...keys]);
      return keys.map((k) => (k === "missing" ? null : k.toUpperCase()));
    });
    loader.prime("a", "primed-a");
    expect(loader.get("a")).toBe("primed-a");
    const pending = [loader.get("b"), loader.get("c"), loader.get("missing")];
    expect(pending.every((p) => p instanceof Promise)).toBe(true);
    expect(await Promise.all(pending)).toEqual(["B", "C", null]);
    expect(batches).toEqual([["b", "c", "missing"]]);
    // Held now: no promise, no batch; a miss (null) is held too.
    expect(loader.get("b")).toBe("B");
    expect(loader.get("missing")).toBeNull();
    expect(batches).toHaveLength(1);
  });

  it("maps a held value without a promise, and a pending one through it", async () => {
    expect(mapLoaded(2, (n) => n * 10)).toBe(20);
    const later = mapLoaded(Promise.resolve(2), (n) => n * 10);
    expect(later).toBeInstanceOf(Promise);
    expect(await later).toBe(20);
  });
});
