/**
 * The queue between a stream's sender and its consumer: order, the end (with and without an
 * error), the sender's wait for the consumer, and a consumer that leaves before it reads.
 */
import { describe, expect, it } from "vitest";
import { HandOver } from "../../src/live/hand-over.js";

/** A sender that hands over `chunks`, waiting for the consumer after each, then stops. */
class Sender extends HandOver<number> {
  readonly log: string[] = [];
  constructor(
    private readonly chunks: number[][],
    private readonly end?: Error,
  ) {
    super();
  }
  protected start(): void {
    void (async () => {
      for (const chunk of this.chunks) {
        if (this.stopped) return;
        for (const value of chunk) this.handOver(value);
        this.log.push(`handed ${chunk.join(",")}`);
        await this.taken();
        this.log.push(`taken ${chunk.join(",")}`);
      }
      this.stop(this.end);
    })();
  }
  protected endedUnstarted(): void {
    this.log.push("ended unstarted");
  }
  protected onStop(): void {
    this.log.push("stopped");
  }
}

describe("HandOver", () => {
  it("delivers in order and ends", async () => {
    const values: number[] = [];
    for await (const value of new Sender([[1, 2, 3], [4], [5, 6]])) values.push(value);
    expect(values).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("lets the consumer take what was handed over before it throws the stream's error", async () => {
    const values: number[] = [];
    const stream = new Sender([[1, 2]], new Error("rights changed"));
    await expect(
      (async () => {
        for await (const value of stream) values.push(value);
      })(),
    ).rejects.toThrow("rights changed");
    expect(values).toEqual([1, 2]);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it("holds the sender until the consumer has sent the last value and asks for more", async () => {
    const stream = new Sender([[1, 2], [3]]);
    expect(await stream.next()).toEqual({ value: 1, done: false });
    expect(await stream.next()).toEqual({ value: 2, done: false });
    await new Promise((r) => setImmediate(r));
    // 2 is taken, but the consumer has not asked for more: it may still be sending it.
    expect(stream.log).toEqual(["handed 1,2"]);
    const third = stream.next();
    expect(await third).toEqual({ value: 3, done: false });
    expect(stream.log).toEqual(["handed 1,2", "taken 1,2", "handed 3"]);
  });

  it("lets a waiting sender and a waiting consumer go when the consumer returns", async () => {
    const stream = new Sender([[1, 2], [3]]);
    expect(await stream.next()).toEqual({ value: 1, done: false });
    await stream.return();
    await new Promise((r) => setImmediate(r));
    expect(stream.log).toEqual(["handed 1,2", "stopped", "taken 1,2"]);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it("never starts a stream whose consumer returns before reading, and says it ended", async () => {
    const stream = new Sender([[1]]);
    await stream.return();
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    expect(stream.log).toEqual(["ended unstarted", "stopped"]);
  });
});
