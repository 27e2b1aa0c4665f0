/**
 * Replay pages over the real event log: a replay with slots to spare reads large pages (few
 * queries; the next page is read while one is sent), replays that compete for their user's
 * slot keep to small pages; each still delivers the whole log in order, once; and a large page
 * is sent in slices, letting the event loop serve other sockets in between.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventHub } from "../../src/live/event-hub.js";
import { EventLogRepo, type EventScope, type RoutedEvent } from "../../src/live/event-log.repo.js";
import { eventStream } from "../../src/live/event-stream.js";
import { REPLAY_PAGES, ReplayGate } from "../../src/live/replay-gate.js";
import { createCareTeam } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { seedEventLog } from "../support/stream-load.js";

const EVENTS = 6000;

let test: TestDatabase;
let scope: EventScope;

beforeAll(async () => {
  test = await createTestDatabase();
  const team = await createCareTeam(test.database.db);
  scope = { consultationId: team.consultation.id };
  await seedEventLog(test.database.db, [team.consultation.id], EVENTS);
}, 120_000);

afterAll(async () => {
  await test?.close();
});

/** The log, recording the size of every page a replay asks for. */
function recordingLog(limits: number[]): EventLogRepo {
  const log = new EventLogRepo(test.database.db);
  const after = log.after.bind(log);
  log.after = (s, afterId, limit) => {
    limits.push(limit);
    return after(s, afterId, limit);
  };
  return log;
}

/** No live events: the replay is all the stream sends. */
const quietHub = { lastId: 0, subscribe: () => () => {} } as unknown as EventHub;

/** Replays the whole log through `gate` as `userId`; the ids received, in order. `onEvent` runs for each as it is received. */
async function replayAll(gate: ReplayGate, userId: string, limits: number[], onEvent?: () => void): Promise<number[]> {
  const stream = eventStream<RoutedEvent>({
    hub: quietHub,
    log: recordingLog(limits),
    scope,
    afterId: 0,
    authorize: () => true,
    prepare: async (events) => [...events],
    replays: () => gate.open(userId),
  });
  const ids: number[] = [];
  for await (const event of stream) {
    ids.push(event.id);
    onEvent?.();
    if (ids.length === EVENTS) break;
  }
  return ids;
}

describe("replay page sizes", () => {
  it("grow to the maximum for a replay that has the gate to itself", async () => {
    const limits: number[] = [];
    const ids = await replayAll(new ReplayGate(4, 1), "alone", limits);
    expect(ids).toHaveLength(EVENTS);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(EVENTS);
    expect(limits[0]).toBe(REPLAY_PAGES.first);
    expect(limits.slice(1, 3)).toEqual([1000, REPLAY_PAGES.max]);
    expect(limits.length).toBeLessThanOrEqual(6);
  });

  it("stay small while replays of one user compete for its slot", async () => {
    const gate = new ReplayGate(4, 1);
    const limits = [[], [], []] as number[][];
    const all = await Promise.all(limits.map((l) => replayAll(gate, "busy", l)));
    for (const ids of all) expect(ids).toEqual(all[0]);
    expect(all[0]).toHaveLength(EVENTS);
    // Each replay competed with another until at least one had finished: in 6,000 events of
    // pages of 250, at most a replay's last few pages (once it is alone) may grow.
    for (const l of limits) {
      expect(l[0]).toBe(REPLAY_PAGES.first);
      const large = l.filter((size) => size > REPLAY_PAGES.contended);
      expect(l.length).toBeGreaterThan(10);
      expect(large.length).toBeLessThanOrEqual(3);
    }
  });
});

describe("a replay's sending", () => {
  it("lets the event loop turn while it sends a large page, instead of holding it for the whole page", async () => {
    // A turn counter the event loop advances whenever it gets to run its immediate queue.
    let turn = 0;
    let ticking = true;
    const tick = () => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const turnOf: number[] = [];
    try {
      await replayAll(new ReplayGate(4, 1), "sliced", [], () => {
        // What executing and writing a frame costs the server, roughly: 50 µs.
        for (const until = performance.now() + 0.05; performance.now() < until; );
        turnOf.push(turn);
      });
    } finally {
      ticking = false;
    }
    let longest = 0;
    for (let i = 0, run = 0; i < turnOf.length; i++) longest = Math.max(longest, (run = i > 0 && turnOf[i] === turnOf[i - 1] ? run + 1 : 1));
    // Pages reach 2,000 events (100 ms of frames here); a slice is 5 ms (~100 frames).
    expect(turnOf).toHaveLength(EVENTS);
    expect(longest).toBeLessThan(REPLAY_PAGES.max / 4);
  });
});
