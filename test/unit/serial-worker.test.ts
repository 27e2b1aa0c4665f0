import { describe, expect, it } from "vitest";
import { SerialWorker } from "../../src/kit/serial-worker.js";

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("SerialWorker", () => {
  it("runs one job at a time and coalesces pokes during a run into one more run", async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    let release: (() => void) | null = null;
    const worker = new SerialWorker(async () => {
      running++;
      most = Math.max(most, running);
      runs++;
      await new Promise<void>((resolve) => (release = resolve));
      running--;
    }, () => undefined);
    worker.poke();
    worker.poke();
    worker.poke();
    await tick();
    expect(runs).toBe(1);
    release!();
    await tick();
    expect(runs).toBe(2);
    release!();
    await worker.idle();
    expect(runs).toBe(2);
    expect(most).toBe(1);
    expect(worker.busy).toBe(false);
  });

  it("reports a failed run and runs again on the next poke", async () => {
    const errors: string[] = [];
    let fail = true;
    let runs = 0;
    const worker = new SerialWorker(async () => {
      runs++;
      if (fail) throw new Error("boom");
    }, (error) => errors.push(error.message));
    worker.poke();
    await worker.idle();
    fail = false;
    worker.poke();
    await worker.idle();
    expect(errors).toEqual(["boom"]);
    expect(runs).toBe(2);
  });
});
