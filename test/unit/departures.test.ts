import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { callEndOf, causeOfReason, departureOf, endReasonOf, joinFailuresOf, sideDepartures, storedLeaveReason } from "../../src/consultations/departures.js";
import { deriveTimeline, type ConnectionFact } from "../../src/consultations/presence.js";
import { derivedEvents } from "../../src/live/timeline-events.js";

const T0 = Date.parse("2026-11-24T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000);
const conn = (peerId: string, side: "doctor" | "patient", joined: number | null, left: number | null, leftReason: string | null = null): ConnectionFact => ({
  peerId, side, joinedAt: joined === null ? null : at(joined), leftAt: left === null ? null : at(left), leftReason,
});

describe("causeOfReason", () => {
  it("maps each reason 100ms documents, and anything else to OTHER, never an error", () => {
    expect(causeOfReason("client request")).toEqual({ cause: "left", detail: "client request" });
    expect(causeOfReason(storedLeaveReason("peer kicked", "Rejoined from another connection"))).toEqual({ cause: "removed", detail: "Rejoined from another connection" });
    expect(causeOfReason("server removed peer").cause).toBe("removed");
    for (const reason of ["websocket closed", "ice connection state closed", "network disconnection"]) expect(causeOfReason(reason).cause).toBe("network");
    expect(causeOfReason("join failed: role not allowed")).toEqual({ cause: "join_failed", detail: "role not allowed" });
    expect(causeOfReason("max duration reached").cause).toBe("call_ended");
    expect(causeOfReason("not in the room (reconciled)")).toEqual({ cause: "other", detail: "not in the room (reconciled)" });
    expect(causeOfReason(null)).toEqual({ cause: "other", detail: null });
    fc.assert(fc.property(fc.string(), (s) => {
      expect(["left", "removed", "network", "join_failed", "call_ended", "other"]).toContain(causeOfReason(s).cause);
    }));
  });

  it("says CALL_ENDED for a connection that was in the room when it was ended, whatever its own leave says", () => {
    const end = { at: at(100), reason: "Consultation finished", side: "doctor" as const };
    expect(departureOf("peer kicked: Consultation finished", { joinedAt: at(0).getTime(), end: at(100).getTime(), closedBySession: false }, [end]))
      .toEqual({ cause: "call_ended", detail: "Consultation finished" });
    // A leave long before the room end, or a connection that joined after it, is its own.
    expect(departureOf("client request", { joinedAt: at(0).getTime(), end: at(50).getTime(), closedBySession: false }, [end]).cause).toBe("left");
    expect(departureOf("client request", { joinedAt: at(120).getTime(), end: at(150).getTime(), closedBySession: false }, [end]).cause).toBe("left");
  });
});

describe("why a call ended", () => {
  it("is the doctor's when their app ended the room, 100ms's at the maximum duration, else everyone left", () => {
    expect(callEndOf([{ at: at(1), reason: "bye", side: "doctor" }])).toBe("doctor");
    expect(callEndOf([{ at: at(1), reason: "max duration reached", side: null }])).toBe("max_duration");
    expect(callEndOf([])).toBe("everyone_left");
    expect(endReasonOf({ outcome: "cancelled", cause: null, closedByUserId: null, reason: "no-show: the join window closed with nobody in the room" })).toBe("no_show");
    expect(endReasonOf({ outcome: "completed", cause: null, closedByUserId: "u", reason: null })).toBe("doctor");
    expect(endReasonOf(null)).toBeNull();
  });
});

describe("departures in the timeline", () => {
  const facts = [
    conn("f1", "patient", null, 5, "join failed: role not allowed"),
    conn("p1", "patient", 10, 200, "websocket closed"),
    conn("p2", "patient", 220, 600, "peer kicked: bye"),
    conn("d1", "doctor", 60, 300, "peer kicked: Rejoined from another connection"),
    conn("d2", "doctor", 305, 600, "client request"),
  ];
  const roomEnds = [{ at: at(600), reason: "bye", side: "doctor" as const }];
  const consultation = { id: "c", appointmentId: "a", doctorId: "d", patientId: "p", roomId: "r", status: "completed" as const, startedAt: at(60), endedAt: at(600), durationSeconds: 540, createdAt: at(0), updatedAt: at(0), endedByCall: true };
  const eventsOf = (list: readonly ConnectionFact[], ends: typeof roomEnds, closes = [at(600)]) => {
    const timeline = deriveTimeline(list, closes);
    return {
      events: derivedEvents(consultation, timeline.transitions, { failures: joinFailuresOf(list), roomEnds: ends })
        .map((e) => `${e.occurredAt.toISOString()} ${e.type} ${e.side ?? "-"} ${e.leaveCause ?? "-"} ${e.leaveDetail ?? "-"}`)
        .sort(),
      sides: sideDepartures(timeline, joinFailuresOf(list), ends),
    };
  };

  it("gives the same events and sides whatever order the facts come in", () => {
    const expected = eventsOf(facts, roomEnds);
    fc.assert(fc.property(fc.shuffledSubarray(facts, { minLength: facts.length, maxLength: facts.length }), (shuffled) => {
      expect(eventsOf(shuffled, roomEnds)).toEqual(expected);
    }));
    expect(expected.sides).toEqual({ doctor: { cause: "call_ended", detail: "bye" }, patient: { cause: "call_ended", detail: "bye" } });
    expect(expected.events.filter((e) => !e.includes("JOINED ") && !e.startsWith(at(60).toISOString()))).toEqual([
      `${at(5).toISOString()} PARTICIPANT_JOIN_FAILED patient join_failed role not allowed`,
      `${at(200).toISOString()} PARTICIPANT_LEFT patient network websocket closed`,
      `${at(300).toISOString()} PARTICIPANT_LEFT doctor removed Rejoined from another connection`,
      `${at(600).toISOString()} PARTICIPANT_LEFT doctor call_ended bye`,
      `${at(600).toISOString()} PARTICIPANT_LEFT patient call_ended bye`,
      `${at(600).toISOString()} STATUS_CHANGED - - -`,
    ]);
  });

  it("shows a side whose last attempt failed as JOIN_FAILED, and none for a side still in", () => {
    const sides = eventsOf([conn("p1", "patient", 0, 50, "client request"), conn("f", "patient", null, 60, "join failed: x"), conn("d", "doctor", 0, null)], [], []).sides;
    expect(sides).toEqual({ doctor: null, patient: { cause: "join_failed", detail: "x" } });
  });
});
