/** ReplayGate: pages in flight capped per user and per process; the rest wait, in order. */
import { describe, expect, it } from "vitest";
import { ReplayGate } from "../../src/live/replay-gate.js";

/** Work that stays in flight until `release` is called; `running` counts what is inside. */
function probe() {
  const state = { running: 0, peak: 0, order: [] as string[] };
  const releases: Array<() => void> = [];
  const work = (name: string) => async () => {
    state.running++;
    state.peak = Math.max(state.peak, state.running);
    state.order.push(name);
    await new Promise<void>((resolve) => releases.push(resolve));
    state.running--;
  };
  const releaseAll = async () => {
    while (releases.length > 0 || state.running > 0) {
      releases.splice(0).forEach((r) => r());
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { state, work, releaseAll };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("ReplayGate", () => {
  it("runs at most `perUser` pages of one user at once, in arrival order", async () => {
    const gate = new ReplayGate(10, 2);
    const { state, work, releaseAll } = probe();
    const all = ["a", "b", "c", "d", "e"].map((n) => gate.run("u1", work(n)));
    await settle();
    expect(state.running).toBe(2);
    await releaseAll();
    await Promise.all(all);
    expect(state.peak).toBe(2);
    expect(state.order).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("runs at most `total` pages in the process, and one user's backlog does not starve another", async () => {
    const gate = new ReplayGate(2, 2);
    const { state, work, releaseAll } = probe();
    const greedy = Array.from({ length: 6 }, (_, i) => gate.run("greedy", work(`g${i}`)));
    const other = gate.run("other", work("o"));
    await settle();
    expect(state.running).toBe(2);
    await releaseAll();
    await Promise.all([...greedy, other]);
    expect(state.peak).toBe(2);
    // "other" waited for one process slot only, not behind all of greedy's pages.
    expect(state.order.indexOf("o")).toBeLessThanOrEqual(3);
  });

  it("frees the slot when a page fails", async () => {
    const gate = new ReplayGate(1, 1);
    await expect(gate.run("u", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(gate.run("u", async () => "ok")).resolves.toBe("ok");
  });
});
