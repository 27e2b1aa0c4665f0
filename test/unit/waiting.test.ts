import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deriveTimeline, type ConnectionFact } from "../../src/consultations/presence.js";
import { waitingOf } from "../../src/consultations/waiting.js";

const T0 = Date.parse("2026-11-24T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000);
const conn = (peerId: string, side: "doctor" | "patient", joined: number, left: number | null, leftReason: string | null = null): ConnectionFact => ({
  peerId, side, joinedAt: at(joined), leftAt: left === null ? null : at(left), leftReason,
});
const waiting = (facts: readonly ConnectionFact[]) => waitingOf(deriveTimeline(facts, []));

describe("waitingOf", () => {
  it("is the side alone in the room, since its join or the other's leave, whichever came last", () => {
    expect(waiting([conn("p1", "patient", 0, null)])).toEqual({ side: "patient", since: at(0) });
    expect(waiting([conn("p1", "patient", 0, null), conn("d1", "doctor", 60, null)])).toBeNull();
    expect(waiting([conn("p1", "patient", 0, null), conn("d1", "doctor", 60, 200, "websocket closed")])).toEqual({ side: "patient", since: at(200) });
    // Two devices of the patient overlapping: alone since the first joined, not the second.
    expect(waiting([conn("p1", "patient", 0, 100), conn("p2", "patient", 50, null)])).toEqual({ side: "patient", since: at(0) });
    expect(waiting([conn("d1", "doctor", 0, 10), conn("p1", "patient", 5, 8)])).toBeNull();
  });

  it("does not depend on the order facts come in, nor on duplicates", () => {
    const facts = [conn("p1", "patient", 0, 150), conn("p2", "patient", 140, null), conn("d1", "doctor", 60, 200, "websocket closed"), conn("d2", "doctor", 210, 260, "client request")];
    const expected = waiting(facts);
    expect(expected).toEqual({ side: "patient", since: at(260) });
    fc.assert(fc.property(fc.shuffledSubarray(facts, { minLength: facts.length, maxLength: facts.length }), fc.array(fc.nat(facts.length - 1), { maxLength: 4 }), (shuffled, dups) => {
      expect(waiting([...shuffled, ...dups.map((i) => facts[i]!)])).toEqual(expected);
    }));
  });
});
