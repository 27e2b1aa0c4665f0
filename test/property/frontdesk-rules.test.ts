/**
 * The front desk's pure rules over random calls: why each side left (on the sides and in the
 * timeline's events), who is waiting, and who never came give the same answer whatever order
 * the facts come in and however often each is repeated, and unknown reasons never throw.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { joinFailuresOf, sideDepartures, type RoomEnd } from "../../src/consultations/departures.js";
import { noShowOf } from "../../src/consultations/no-shows.js";
import { deriveTimeline, type ConnectionFact } from "../../src/consultations/presence.js";
import { waitingOf } from "../../src/consultations/waiting.js";
import { derivedEvents } from "../../src/live/timeline-events.js";

const T0 = Date.parse("2026-11-24T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000);
const side = fc.constantFrom<"doctor" | "patient">("doctor", "patient");
const reason = fc.oneof(
  fc.constantFrom("client request", "peer kicked", "peer kicked: Rejoined from another connection", "websocket closed", "ice connection state closed", "server removed peer", "not in the room (reconciled)"),
  fc.string({ maxLength: 20 }),
);

const call = fc.record({
  connections: fc.array(fc.record({ side, from: fc.integer({ min: 0, max: 1000 }), length: fc.option(fc.integer({ min: 1, max: 600 })), reason }), { minLength: 1, maxLength: 8 }),
  failures: fc.array(fc.record({ side, at: fc.integer({ min: 0, max: 1500 }), error: fc.string({ maxLength: 12 }) }), { maxLength: 2 }),
  roomEnd: fc.option(fc.record({ at: fc.integer({ min: 100, max: 1600 }), by: fc.option(side), reason: fc.option(fc.string({ maxLength: 12 })) })),
});

type Call = typeof call extends fc.Arbitrary<infer T> ? T : never;

function factsOf(c: Call): ConnectionFact[] {
  return [
    ...c.connections.map((x, i): ConnectionFact => ({
      peerId: `p${i}`, side: x.side, joinedAt: at(x.from), leftAt: x.length === null ? null : at(x.from + x.length), leftReason: x.length === null ? null : x.reason,
    })),
    ...c.failures.map((f, i): ConnectionFact => ({ peerId: `f${i}`, side: f.side, joinedAt: null, leftAt: at(f.at), leftReason: `join failed: ${f.error}` })),
  ];
}

function frontDesk(facts: readonly ConnectionFact[], c: Call) {
  const roomEnds: RoomEnd[] = c.roomEnd ? [{ at: at(c.roomEnd.at), side: c.roomEnd.by, reason: c.roomEnd.reason }] : [];
  const closes = roomEnds.map((r) => r.at);
  const timeline = deriveTimeline(facts, closes);
  const failures = joinFailuresOf(facts);
  const consultation = { id: "c", appointmentId: "a", doctorId: "d", patientId: "p", roomId: "r", status: "active" as const, startedAt: timeline.firstTogetherAt, endedAt: null, durationSeconds: null, createdAt: at(0), updatedAt: at(0), endedByCall: false };
  return {
    departures: sideDepartures(timeline, failures, roomEnds),
    waiting: waitingOf(timeline),
    noShow: noShowOf(facts, closes, at(1800)),
    events: derivedEvents(consultation, timeline.transitions, { failures, roomEnds })
      .map((e) => `${e.occurredAt.toISOString()} ${e.type} ${e.side} ${e.leaveCause} ${e.leaveDetail}`)
      .sort(),
  };
}

describe("the front desk's rules", () => {
  it("give the same departures, waiting, no-show and events whatever the order of the facts and their duplicates", () => {
    fc.assert(
      fc.property(call.chain((c) => {
        const facts = factsOf(c);
        return fc.tuple(fc.constant(c), fc.shuffledSubarray(facts, { minLength: facts.length, maxLength: facts.length }), fc.array(fc.nat(facts.length - 1), { maxLength: 5 }));
      }), ([c, shuffled, duplicates]) => {
        const facts = factsOf(c);
        const expected = frontDesk(facts, c);
        expect(frontDesk([...shuffled, ...duplicates.map((i) => facts[i]!)], c)).toEqual(expected);
        for (const d of Object.values(expected.departures)) if (d) expect(["left", "removed", "network", "join_failed", "call_ended", "other"]).toContain(d.cause);
      }),
      { numRuns: 300 },
    );
  });
});
