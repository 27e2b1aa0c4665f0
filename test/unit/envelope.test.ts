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
