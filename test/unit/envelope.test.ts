/** The webhook envelope: a replay from 100ms's delivery log (`is_replay`) parses like the original. */
import { describe, expect, it } from "vitest";
import { isReplay, parseEnvelope } from "../../src/webhooks/envelope.js";

const body = (extra: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ version: "2.0", id: "e1", account_id: "a", timestamp: "2026-01-01T00:00:00Z", type: "peer.join.success", data: { room_id: "r" }, ...extra }));

describe("parseEnvelope and is_replay", () => {
  it("accepts a replayed delivery, keeping the flag in the stored payload", () => {
    const replay = parseEnvelope(body({ is_replay: true }));
    expect(replay).toMatchObject({ id: "e1", is_replay: true });
    expect(isReplay(replay!)).toBe(true);
    expect(isReplay(parseEnvelope(body({ is_replay: "true" }))!)).toBe(true);
  });

  it("an original delivery is not a replay and gains no field", () => {
    const original = parseEnvelope(body({}))!;
    expect(isReplay(original)).toBe(false);
    expect("is_replay" in original).toBe(false);
    expect(isReplay(parseEnvelope(body({ is_replay: false }))!)).toBe(false);
  });

  it("never refuses a delivery for its flag: an unexpected value is accepted, not read as a replay", () => {
    const odd = parseEnvelope(body({ is_replay: { nested: true } }));
    expect(odd).not.toBeNull();
    expect(isReplay(odd!)).toBe(false);
  });
});

describe("descriptive fields of the acted-on events", () => {
  it("are read when text and left out otherwise: a room end or a leave is never invalid for its words", async () => {
    const { peerDataSchema, roomEndDataSchema } = await import("../../src/webhooks/envelope.js");
    expect(roomEndDataSchema.parse({ room_id: "r", session_id: "s", reason: "bye", source: "peer", user_id: "u", role: "doctor" })).toMatchObject({ reason: "bye", source: "peer" });
    expect(roomEndDataSchema.safeParse({ room_id: "r", session_id: "s", reason: 5, source: {} }).success).toBe(true);
    expect(roomEndDataSchema.safeParse({ room_id: "r", session_id: "s" }).success).toBe(true);
    expect(peerDataSchema.parse({ room_id: "r", peer_id: "p", message: ["x"] }).message).toBeNull();
    expect(peerDataSchema.safeParse({ room_id: "r", peer_id: "p" }).success).toBe(true);
  });
});
