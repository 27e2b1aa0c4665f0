import { describe, expect, it } from "vitest";
import { decodeConsultationCursor, encodeConsultationCursor } from "../../src/consultations/consultation.cursor.js";
import { AppError } from "../../src/kit/errors.js";

describe("consultation cursors", () => {
  it("round-trips the sort key", () => {
    const cursor = { scheduledAt: "2026-11-24T09:30:00.123456Z", id: "6f1c1c52-2a53-4b0e-9a51-3f0d1b2c3d4e" };
    expect(decodeConsultationCursor(encodeConsultationCursor(cursor))).toEqual(cursor);
  });

  it.each(["", "garbage", Buffer.from("c1:not-a-date|x").toString("base64url"), Buffer.from("c1:2026-01-01T00:00:00Z|not-uuid").toString("base64url")])(
    "rejects %j with BAD_USER_INPUT",
    (value) => {
      expect(() => decodeConsultationCursor(value)).toThrowError(AppError);
      try {
        decodeConsultationCursor(value);
      } catch (error) {
        expect((error as AppError).code).toBe("BAD_USER_INPUT");
      }
    },
  );
});
