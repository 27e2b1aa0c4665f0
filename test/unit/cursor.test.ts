/**
 * The cursor codec and each connection's key: full precision round trips, the millisecond
 * cursors issued before still read (on the side of their row that repeats, never skips), and
 * BAD_USER_INPUT for anything else.
 */
import { describe, expect, it } from "vitest";
import { decodeAuditCursor, encodeAuditCursor } from "../../src/audit/audit.cursor.js";
import { decodeConsultationCursor } from "../../src/consultations/consultation.cursor.js";
import { readExactTime } from "../../src/kit/cursor.js";
import { AppError } from "../../src/kit/errors.js";
import { decodeEventId, encodeEventId } from "../../src/consultations/event-cursor.js";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64url");
const ID = "6f1c1c52-2a53-4b0e-9a51-3f0d1b2c3d4e";

function codeOf(fn: () => unknown): { code: string; details: unknown; message: string } | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const e = error as AppError;
    return { code: e.code, details: e.details, message: e.message };
  }
  return undefined;
}

describe("exact times", () => {
  it("accept six fraction digits of a real UTC date in the years PostgreSQL stores only", () => {
    for (const good of ["2026-11-24T09:30:00.123456Z", "1960-02-29T23:59:59.999999Z", "0001-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z"]) {
      expect(readExactTime(good)).toBe(good);
    }
    for (const bad of ["2026-11-24T09:30:00.123Z", "2026-02-30T00:00:00.000000Z", "2026-01-01T24:00:00.000000Z", "0000-01-01T00:00:00.000000Z", "2026-11-24T09:30:00.1234567Z", "2026-11-24T09:30:00.123456+01:00", "2026-11-24 09:30:00.123456Z"]) {
      expect(readExactTime(bad), bad).toBeNull();
    }
  });
});

describe("audit cursors", () => {
  it("round-trip the position at microsecond precision", () => {
    const position = { occurredAt: "2026-11-24T09:30:00.000001Z", id: 42 };
    expect(decodeAuditCursor(encodeAuditCursor(position))).toEqual(position);
  });

  it("carry an event's place in a record of several (au4), and keep a record of one's au3 id", () => {
    const position = { occurredAt: "2026-11-24T09:30:00.000001Z", id: 42, ordinal: 7 };
    expect(Buffer.from(encodeAuditCursor(position), "base64url").toString()).toBe("au4:2026-11-24T09:30:00.000001Z|42|7");
    expect(decodeAuditCursor(encodeAuditCursor(position))).toEqual(position);
    expect(Buffer.from(encodeAuditCursor({ occurredAt: position.occurredAt, id: 42, ordinal: 0 }), "base64url").toString()).toBe("au3:2026-11-24T09:30:00.000001Z|42");
  });

  it("read the millisecond form issued before as the last microsecond of its millisecond (newest first)", () => {
    expect(decodeAuditCursor(b64("au2:2026-11-24T09:30:00.123Z|42"))).toEqual({ occurredAt: "2026-11-24T09:30:00.123999Z", id: 42 });
  });

  it.each(["", "garbage", b64("au3:2026-11-24T09:30:00.123Z|1"), b64("au3:2026-11-24T09:30:00.123456Z|-1"), b64("au3:2026-11-24T09:30:00.123456Z|1|2"), b64("au2:nope|1"), b64("c2:2026-11-24T09:30:00.123456Z|1"), b64("au4:2026-11-24T09:30:00.123456Z|1|0"), b64("au4:2026-11-24T09:30:00.123456Z|1"), b64("au4:2026-11-24T09:30:00.123456Z|1|2|3")])(
    "refuse %j with BAD_USER_INPUT on `after`",
    (value) => {
      expect(codeOf(() => decodeAuditCursor(value))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "after" }, message: "after is not a valid cursor" });
    },
  );
});

describe("consultation cursors issued before", () => {
  it("read the millisecond form as the first microsecond of its millisecond (soonest first)", () => {
    expect(decodeConsultationCursor(b64(`c1:2026-11-24T09:30:00.123Z|${ID}`))).toEqual({ scheduledAt: "2026-11-24T09:30:00.123000Z", id: ID });
  });
});

describe("event ids", () => {
  it("keep their format and round-trip", () => {
    expect(encodeEventId(17)).toBe(b64("ev1:17"));
    expect(decodeEventId(encodeEventId(2 ** 40))).toBe(2 ** 40);
  });

  it.each(["", b64("ev1:"), b64("ev1:-3"), b64("ev1:1.5"), b64("ev1:1e3"), b64("ev1:99999999999999999"), b64("c1:1")])("refuse %j naming the field", (value) => {
    expect(codeOf(() => decodeEventId(value, "since"))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "since" }, message: "since is not a valid event id" });
  });
});
