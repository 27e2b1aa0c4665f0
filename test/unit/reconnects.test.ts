import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deriveTimeline, type ConnectionFact } from "../../src/consultations/presence.js";
import { deriveReconnects, isNetworkLeave, presenceStateAt } from "../../src/consultations/reconnects.js";

const T0 = Date.parse("2026-11-24T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000);
const WINDOW_MS = 60_000;
const conn = (peerId: string, side: "doctor" | "patient", joined: number, left: number | null, leftReason: string | null = null): ConnectionFact => ({
  peerId,
  side,
  joinedAt: at(joined),
  leftAt: left === null ? null : at(left),
  leftReason,
});

function reconnectsOf(connections: ConnectionFact[], closes: number[], now: number, lastDelivery: number | null = null) {
  const closeDates = closes.map(at);
  return deriveReconnects(deriveTimeline(connections, closeDates).transitions, closeDates, WINDOW_MS, at(now), lastDelivery === null ? null : at(lastDelivery));
}

describe("isNetworkLeave", () => {
  it("is true for 100ms's network reasons only", () => {
    for (const reason of ["websocket closed", "ice connection state closed", "network disconnection", "WebSocket Closed"]) expect(isNetworkLeave(reason)).toBe(true);
    for (const reason of ["client request", "peer kicked", "server removed peer", "", null, undefined]) expect(isNetworkLeave(reason)).toBe(false);
  });
});

describe("deriveReconnects", () => {
  const patient = conn("p1", "patient", 0, null);

  it("keeps a side that dropped RECONNECTING for the window, then offline with one 'offline' transition", () => {
    const dropped = [patient, conn("d1", "doctor", 10, 100, "websocket closed")];
    const during = reconnectsOf(dropped, [], 130);
    expect(during.until.doctor).toEqual(at(160));
    expect(during.expired).toEqual([]);
    expect(during.nextDeadline).toEqual(at(160));
    expect(presenceStateAt(false, during.until.doctor, at(130))).toBe("reconnecting");

    const after = reconnectsOf(dropped, [], 160);
    expect(after.expired).toEqual([expect.objectContaining({ kind: "offline", side: "doctor", at: at(100), joinedAt: at(10), reason: "websocket closed" })]);
    expect(after.nextDeadline).toBeNull();
    expect(presenceStateAt(false, after.until.doctor, at(160))).toBe("offline");
  });

  it("counts the window from the room's last delivery too: a backlog's old leave is not offline until its rest had time to come", () => {
    const dropped = [patient, conn("d1", "doctor", 10, 100, "websocket closed")];
    const delivered = reconnectsOf(dropped, [], 3_600, 3_600);
    expect(delivered.expired).toEqual([]);
    expect(delivered.until.doctor).toEqual(at(3_660));
    expect(delivered.nextDeadline).toEqual(at(3_660));
    expect(reconnectsOf(dropped, [], 3_660, 3_600).expired.map((t) => t.kind)).toEqual(["offline"]);
    // The backlog's session close (in event time, within the window of the leave) ends it without an "offline".
    expect(reconnectsOf([conn("p1", "patient", 0, 120), ...dropped.slice(1)], [120], 3_700, 3_601)).toMatchObject({ expired: [], until: { doctor: at(120) } });
  });

  it("ends RECONNECTING at a rejoin within the window, with no 'offline'", () => {
    const r = reconnectsOf([patient, conn("d1", "doctor", 10, 100, "ice connection state closed"), conn("d2", "doctor", 150, null)], [], 1_000);
    expect(r.until.doctor).toBeNull();
    expect(r.expired).toEqual([]);
  });

  it("counts a rejoin after the window as a return from offline", () => {
    const r = reconnectsOf([patient, conn("d1", "doctor", 10, 100, "websocket closed"), conn("d2", "doctor", 200, null)], [], 1_000);
    expect(r.until.doctor).toBeNull();
    expect(r.expired.map((t) => t.at)).toEqual([at(100)]);
  });

  it("ends RECONNECTING when the session closes first, with no 'offline'", () => {
    const r = reconnectsOf([conn("p1", "patient", 0, 120), conn("d1", "doctor", 10, 100, "websocket closed")], [120], 1_000);
    expect(r.until.doctor).toEqual(at(120));
    expect(r.expired).toEqual([]);
    expect(r.nextDeadline).toBeNull();
  });

  it("never reconnects after a leave the user asked for", () => {
    const r = reconnectsOf([patient, conn("d1", "doctor", 10, 100, "client request")], [], 120);
    expect(r.until.doctor).toBeNull();
    expect(r.expired).toEqual([]);
  });

  it("keeps a side with another device still in the room ONLINE", () => {
    const r = reconnectsOf([patient, conn("d1", "doctor", 10, 100, "websocket closed"), conn("d2", "doctor", 50, null)], [], 1_000);
    expect(r.until.doctor).toBeNull();
    expect(r.expired).toEqual([]);
  });

  it("gives the same result whatever order the connections come in", () => {
    const connections = [patient, conn("d1", "doctor", 10, 100, "websocket closed"), conn("d2", "doctor", 90, 130, "websocket closed"), conn("d3", "doctor", 300, 400, "network disconnection")];
    const expected = reconnectsOf(connections, [], 1_000);
    expect(expected.expired.map((t) => t.at)).toEqual([at(130), at(400)]);
    fc.assert(fc.property(fc.shuffledSubarray(connections, { minLength: connections.length }), (shuffled) => {
      expect(reconnectsOf(shuffled, [], 1_000)).toEqual(expected);
    }));
  });
});
