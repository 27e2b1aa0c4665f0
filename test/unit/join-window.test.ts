import { describe, expect, it } from "vitest";
import { assertCanJoin, joinTokenExpiry, joinWindow, roomMaxDurationSeconds } from "../../src/consultations/join-window.js";

const booking = { scheduledAt: new Date("2026-11-24T10:00:00.000Z"), durationMinutes: 30 };
const window = joinWindow(booking, { joinEarlyMinutes: 15, joinGraceMinutes: 60 });
const at = (iso: string) => new Date(iso);
const code = (fn: () => void) => {
  try {
    fn();
    return "ok";
  } catch (error) {
    return (error as { code: string }).code;
  }
};

describe("join window", () => {
  it("opens JOIN_EARLY before the appointment and closes JOIN_GRACE after its booked end", () => {
    expect(window).toEqual({ opensAt: at("2026-11-24T09:45:00.000Z"), closesAt: at("2026-11-24T11:30:00.000Z") });
  });

  it("closes later by the delay a doctor running late announced (it opens as booked)", () => {
    const late = joinWindow({ ...booking, delayMinutes: 40 }, { joinEarlyMinutes: 15, joinGraceMinutes: 60 });
    expect(late).toEqual({ opensAt: at("2026-11-24T09:45:00.000Z"), closesAt: at("2026-11-24T12:10:00.000Z") });
    expect(code(() => assertCanJoin("pending", late, at("2026-11-24T12:00:00.000Z")))).toBe("ok");
  });

  it.each([
    ["pending", "2026-11-24T09:44:59.000Z", "INVALID_STATE"],
    ["pending", "2026-11-24T09:45:00.000Z", "ok"],
    ["pending", "2026-11-24T11:29:59.000Z", "ok"],
    ["pending", "2026-11-24T11:30:00.000Z", "INVALID_STATE"],
    ["active", "2026-11-24T13:00:00.000Z", "ok"],
    ["completed", "2026-11-24T10:05:00.000Z", "INVALID_STATE"],
    ["cancelled", "2026-11-24T10:05:00.000Z", "INVALID_STATE"],
  ] as const)("%s at %s: %s", (status, now, expected) => {
    expect(code(() => assertCanJoin(status, window, at(now)))).toBe(expected);
  });

  it("bounds a token's expiry by the window, and gives an overrunning ACTIVE call a short one", () => {
    expect(joinTokenExpiry("pending", window, at("2026-11-24T10:00:00.000Z"))).toEqual(window.closesAt);
    expect(joinTokenExpiry("active", window, at("2026-11-24T10:00:00.000Z"))).toEqual(window.closesAt);
    expect(joinTokenExpiry("active", window, at("2026-11-24T13:00:00.500Z"))).toEqual(at("2026-11-24T13:15:00.000Z"));
  });

  it("keeps the room's max duration within what 100ms accepts", () => {
    expect(roomMaxDurationSeconds(30, 30)).toBe(3600);
    expect(roomMaxDurationSeconds(1, 0)).toBe(120);
    expect(roomMaxDurationSeconds(1000, 30)).toBe(43_200);
  });
});
