import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { appointmentStatusOf, noShowOf } from "../../src/consultations/no-shows.js";
import type { ConnectionFact } from "../../src/consultations/presence.js";

const T0 = Date.parse("2026-11-24T10:00:00.000Z");
const at = (m: number) => new Date(T0 + m * 60_000);
const conn = (peerId: string, side: "doctor" | "patient", joined: number | null, left: number | null): ConnectionFact => ({
  peerId, side, joinedAt: joined === null ? null : at(joined), leftAt: left === null ? null : at(left),
});
const CLOSES_AT = at(90);

describe("noShowOf", () => {
  it("names the side that never came and the other's time in the room, whatever order the facts come in", () => {
    // The patient waits 0-25, drops, is back 27-40 on two devices, and a failed join of the doctor's never counts.
    const facts = [conn("p1", "patient", 0, 25), conn("p2", "patient", 27, 35), conn("p3", "patient", 30, 40), { ...conn("d0", "doctor", null, 5), leftReason: "join failed: x" }];
    fc.assert(fc.property(fc.shuffledSubarray(facts, { minLength: facts.length, maxLength: facts.length }), (shuffled) => {
      expect(noShowOf(shuffled, [], CLOSES_AT)).toEqual({ absent: "doctor", waitedMs: 38 * 60_000 });
    }));
  });

  it("counts a side still in the room until the window closed, ignores joins after it, and bills the patient only for their own absence", () => {
    const doctorWaiting = noShowOf([conn("d1", "doctor", 80, null), conn("p1", "patient", 95, null)], [], CLOSES_AT);
    expect(doctorWaiting).toEqual({ absent: "patient", waitedMs: 10 * 60_000 });
    expect(appointmentStatusOf(doctorWaiting)).toBe("no_show");
    expect(appointmentStatusOf(noShowOf([], [], CLOSES_AT))).toBe("no_show");
    expect(appointmentStatusOf(noShowOf([conn("p1", "patient", 0, 40)], [], CLOSES_AT))).toBe("cancelled");
    expect(noShowOf([conn("p1", "patient", 0, 10), conn("d1", "doctor", 20, 30)], [], CLOSES_AT)).toEqual({ absent: null, waitedMs: 0 });
  });
});
