import { describe, expect, it } from "vitest";
import { deriveAttendance, type AttendanceConnection, type Delivery } from "../../src/attendance/attendance.js";
import { assertMayReadAttendance } from "../../src/attendance/attendance.service.js";

const T0 = Date.parse("2026-11-24T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000);
const conn = (peerId: string, side: "doctor" | "patient", joined: number, left: number | null, extra: Partial<AttendanceConnection> = {}): AttendanceConnection => ({
  peerId, side, joinedAt: at(joined), leftAt: left === null ? null : at(left), sessionId: "s1", ...extra,
});
const deliveries = (peerId: string, ...types: string[]): Delivery[] => types.map((type) => ({ id: `${peerId}:${type}`, type, peerId, sessionId: "s1" }));

describe("deriveAttendance", () => {
  it("traces each interval to its deliveries and bills only the overlaps", () => {
    const ledger = deriveAttendance(
      [conn("p1", "patient", 0, 400), conn("p2", "patient", 370, null), conn("d1", "doctor", 60, 600, { leftInferred: true })],
      [at(700)],
      [...deliveries("p1", "peer.join.success", "peer.leave.success"), ...deliveries("p2", "peer.join.success"), ...deliveries("d1", "peer.join.success"), { id: "close", type: "session.close.success", peerId: null, sessionId: "s1" }],
    );
    expect(ledger.intervals.patient.map((i) => [i.peerId, i.source, i.to, i.webhookIds])).toEqual([
      ["p1", "reported", at(400), ["p1:peer.join.success", "p1:peer.leave.success"]],
      ["p2", "closed_by_session_end", at(700), ["close", "p2:peer.join.success"]],
    ]);
    expect(ledger.intervals.doctor.map((i) => [i.source, i.to])).toEqual([["inferred", at(600)]]);
    // The patient's two devices count once: one overlap, 60 s to 600 s.
    expect(ledger.overlaps.map((o) => [o.from, o.to, o.seconds])).toEqual([[at(60), at(600), 540]]);
    expect(ledger.connectedSeconds).toBe(540);
  });

  it("keeps an open overlap at 0 seconds until it ends", () => {
    const ledger = deriveAttendance([conn("p1", "patient", 0, null), conn("d1", "doctor", 10, null)], [], []);
    expect(ledger.overlaps).toEqual([{ from: at(10), to: null, seconds: 0, webhookIds: [] }]);
    expect(ledger.connectedSeconds).toBe(0);
  });
});

describe("assertMayReadAttendance", () => {
  const c = { doctorId: "d", patientId: "p" };
  it("lets the consultation's doctor, its patient and admins read it, and nobody else", () => {
    expect(() => assertMayReadAttendance({ userId: "u", role: "admin", doctorId: null, patientId: null }, c)).not.toThrow();
    expect(() => assertMayReadAttendance({ userId: "u", role: "doctor", doctorId: "d", patientId: null }, c)).not.toThrow();
    expect(() => assertMayReadAttendance({ userId: "u", role: "patient", doctorId: null, patientId: "p" }, c)).not.toThrow();
    expect(() => assertMayReadAttendance({ userId: "u", role: "doctor", doctorId: "other", patientId: null }, c)).toThrow(expect.objectContaining({ code: "FORBIDDEN" }));
    expect(() => assertMayReadAttendance({ userId: "u", role: "patient", doctorId: null, patientId: "other" }, c)).toThrow(expect.objectContaining({ code: "FORBIDDEN" }));
  });
});
