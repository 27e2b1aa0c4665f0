/**
 * The webhook queue's lanes (kit/batch-lanes.ts) over random arrivals, keys, batch durations
 * and failures: every item runs exactly once; a key's items run in the order pushed and never
 * in two batches at once; no more batches run than there are lanes, none larger than its size;
 * `idle()` resolves only when everything pushed has run. Batches end in an order fast-check's
 * scheduler picks, so runs that a real database would finish in any order are all tried.
 * FC_SEED=n replays a seed fast-check printed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BatchLanes } from "../../src/kit/batch-lanes.js";

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;

interface Item {
  key: string;
  seq: number;
}

const arrivals = fc.array(fc.array(fc.constantFrom("a", "b", "c", "d", ""), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 });

describe("batch lanes", () => {
  it("run every item once, each key in order and in one batch at a time, within the lanes and sizes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), arrivals, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), async (s, groups, lanes, batchSize, failSome) => {
        const ran: Item[] = [];
        const runningKeys = new Set<string>();
        let running = 0;
        let maxRunning = 0;
        const overlaps: string[] = [];
        const errors: Error[] = [];
        const queue = new BatchLanes<Item>({
          key: (item) => item.key,
          lanes,
          batchSize,
          splitAfterMs: 0,
          onError: (error) => errors.push(error),
          run: async (batch) => {
            expect(batch.length).toBeGreaterThan(0);
            expect(batch.length).toBeLessThanOrEqual(batchSize);
            const keys = new Set(batch.map((i) => i.key));
            for (const key of keys) (runningKeys.has(key) ? overlaps.push(key) : runningKeys.add(key));
            maxRunning = Math.max(maxRunning, ++running);
            try {
              await s.schedule(Promise.resolve(), `batch ${batch.map((i) => i.key + i.seq).join(",")}`);
              ran.push(...batch);
              // A failed batch still counts as run: the queue above marks its events failed and reads them back.
              if (failSome && batch[0]!.seq % 3 === 0) throw new Error("apply failed");
            } finally {
              running--;
              for (const key of keys) runningKeys.delete(key);
            }
          },
        });
        let seq = 0;
        const pushed: Item[] = [];
        for (const group of groups) {
          const items = group.map((key) => ({ key, seq: seq++ }));
          pushed.push(...items);
          queue.push(items);
          // Later arrivals land while earlier batches run: batches start on the next turn.
          await new Promise((resolve) => setImmediate(resolve));
          if (s.count() > 0) await s.waitOne();
        }
        let idle = false;
        const idled = queue.idle().then(() => (idle = true));
        await s.waitFor(idled);
        expect(idle).toBe(true);
        expect(overlaps).toEqual([]);
        expect(maxRunning).toBeLessThanOrEqual(lanes);
        expect([...ran].sort((x, y) => x.seq - y.seq)).toEqual(pushed);
        for (const key of new Set(pushed.map((i) => i.key))) {
          expect(ran.filter((i) => i.key === key).map((i) => i.seq)).toEqual(pushed.filter((i) => i.key === key).map((i) => i.seq));
        }
        expect(errors.length > 0).toBe(failSome && ran.some((i) => i.seq % 3 === 0));
      }),
      { numRuns: 200, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
  });

  it("start a second batch only once the newest has run splitAfterMs", async () => {
    let now = 0;
    const started: string[][] = [];
    const finish: Array<() => void> = [];
    const queue = new BatchLanes<string>({
      key: (item) => item,
      lanes: 4,
      batchSize: 10,
      splitAfterMs: 50,
      now: () => now,
      onError: () => undefined,
      run: (batch) => (started.push(batch), new Promise<void>((resolve) => finish.push(resolve))),
    });
    queue.push(["a"]);
    await new Promise((resolve) => setImmediate(resolve));
    queue.push(["b", "c"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([["a"]]); // b and c wait: the running batch is young
    now = 50;
    queue.kick();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([["a"], ["b", "c"]]); // it has run 50 ms: a second lane opens
    for (const resolve of finish) resolve();
    await queue.idle();
  });
});
