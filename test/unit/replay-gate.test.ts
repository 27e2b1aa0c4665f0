/**
 * ReplayGate: pages in flight capped per user and per process; the rest wait, in order. Each
 * page knows whether its replay competes for the slots, and nextReplayPage sizes pages from that.
 */
import { describe, expect, it } from "vitest";
import { nextReplayPage, REPLAY_PAGES, ReplayGate, type Admission, type ReplayTurns } from "../../src/live/replay-gate.js";

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

  it("calls a replay contended while more replays are open than its user's or the process's slots", async () => {
    const gate = new ReplayGate(2, 1);
    const seen: boolean[] = [];
    const look = (admission: Admission) => {
      seen.push(admission.contended);
      return Promise.resolve();
    };
    const first = gate.open("u1");
    await first.run(look); // alone
    const otherUser = gate.open("u2");
    await first.run(look); // two users, two process slots: room for both
    const sameUser = gate.open("u1");
    await first.run(look); // two replays for the user's one slot
    sameUser.close();
    await first.run(look);
    const third = gate.open("u3");
    await first.run(look); // three replays for two process slots
    third.close();
    otherUser.close();
    await first.run(look);
    first.close();
    expect(seen).toEqual([false, false, true, false, true, false]);
  });

  it("reads contention live: a page learns of a replay that opened after it was admitted", async () => {
    const gate = new ReplayGate(4, 1);
    const first = gate.open("u1");
    let later: ReplayTurns | undefined;
    const seen = await first.run(async (admission) => {
      const before = admission.contended;
      later = gate.open("u1");
      return [before, admission.contended];
    });
    later!.close();
    first.close();
    expect(seen).toEqual([false, true]);
  });
});

describe("nextReplayPage", () => {
  it("starts small, grows while uncontended up to the maximum, and shrinks under contention", () => {
    const sizes: number[] = [];
    let size: number | null = null;
    for (const contended of [false, false, false, false, false, true, true, false]) sizes.push((size = nextReplayPage(size, contended)));
    expect(sizes).toEqual([100, 1000, 2000, 2000, 2000, 250, 250, 1000]);
    expect(REPLAY_PAGES.max).toBeLessThanOrEqual(2000);
  });

  it("keeps a contended replay on small pages from its first page on", () => {
    expect(nextReplayPage(null, true)).toBe(REPLAY_PAGES.first);
    expect(nextReplayPage(REPLAY_PAGES.first, true)).toBe(REPLAY_PAGES.contended);
    expect(nextReplayPage(REPLAY_PAGES.max, true)).toBe(REPLAY_PAGES.contended);
  });
});
