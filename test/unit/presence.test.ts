import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connectedSecondsAt, deriveTimeline, type ConnectionFact } from "../../src/consultations/presence.js";

const T0 = Date.parse("2026-11-24T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000);
const conn = (peerId: string, side: "doctor" | "patient" | null, joined: number | null, left: number | null): ConnectionFact => ({
  peerId,
  side,
  joinedAt: joined === null ? null : at(joined),
  leftAt: left === null ? null : at(left),
});

describe("deriveTimeline", () => {
  it("shows a patient waiting alone, and both together once the doctor joins", () => {
    const waiting = deriveTimeline([conn("p1", "patient", 0, null)], []);
    expect(waiting.sides.patient).toEqual({ online: true, peerId: "p1", joinedAt: at(0), leftAt: null });
    expect(waiting.sides.doctor.online).toBe(false);
    expect(waiting.firstTogetherAt).toBeNull();

    const together = deriveTimeline([conn("p1", "patient", 0, null), conn("d1", "doctor", 300, null)], []);
    expect(together.firstTogetherAt).toEqual(at(300));
    expect(together.bothSince).toEqual(at(300));
    expect(connectedSecondsAt(together.connectedMs, together.bothSince, at(360))).toBe(60);
  });

  it("counts a side online until its last connection leaves (two devices, quick rejoin)", () => {
    const t = deriveTimeline(
      [conn("d1", "doctor", 0, 100), conn("d2", "doctor", 90, 200), conn("d3", "doctor", 200, null), conn("p1", "patient", 50, 150)],
      [],
    );
    expect(t.sides.doctor).toEqual({ online: true, peerId: "d3", joinedAt: at(200), leftAt: null });
    expect(t.transitions.filter((x) => x.side === "doctor").map((x) => x.kind)).toEqual(["joined"]);
    expect(t.connectedMs).toBe(100_000);
  });

  it("closes connections whose leave never came at the session's close", () => {
    const t = deriveTimeline([conn("p1", "patient", 0, null), conn("d1", "doctor", 10, 70)], [at(100)]);
    expect(t.sides.patient).toMatchObject({ online: false, leftAt: at(100) });
    expect(t.lastPresenceAt).toEqual(at(100));
    expect(t.connectedMs).toBe(60_000);
  });

  it("never counts a peer that is neither side", () => {
    const t = deriveTimeline([conn("x", null, 0, null), conn("p1", "patient", 0, null)], []);
    expect(t.sides.doctor.online).toBe(false);
    expect(t.firstTogetherAt).toBeNull();
  });

  it("does not depend on the order facts are given in", () => {
    const facts = [
      conn("p1", "patient", 0, 400),
      conn("d1", "doctor", 60, 200),
      conn("d2", "doctor", 230, 460),
      conn("p2", "patient", 420, 500),
    ];
    const expected = deriveTimeline(facts, [at(500)]);
    fc.assert(
      fc.property(fc.shuffledSubarray(facts, { minLength: facts.length, maxLength: facts.length }), (shuffled) => {
        expect(deriveTimeline(shuffled, [at(500)])).toEqual(expected);
      }),
    );
    expect(expected.connectedMs).toBe((200 - 60 + 400 - 230 + 460 - 420) * 1000);
  });
});
