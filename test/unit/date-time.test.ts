/**
 * The DateTime scalar answers with the ISO string itself (not a `Date` for `JSON.stringify` to
 * convert), so that results hold no `toJSON` (see schema.ts), and with the same text as before.
 */
import "reflect-metadata";
import { execute, GraphQLObjectType, GraphQLSchema, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { DateTime } from "../../src/app/schema.js";

describe("DateTime", () => {
  const at = new Date("2026-11-24T09:30:00.000Z");

  it("serialises a Date, an ISO string and a timestamp to the ISO string in UTC", () => {
    expect(DateTime.serialize(at)).toBe("2026-11-24T09:30:00.000Z");
    expect(DateTime.serialize("2026-11-24T10:30:00+01:00")).toBe("2026-11-24T09:30:00.000Z");
    expect(DateTime.serialize(at.getTime())).toBe("2026-11-24T09:30:00.000Z");
    expect(JSON.stringify({ at: DateTime.serialize(at) })).toBe(JSON.stringify({ at }));
  });

  it("refuses what graphql-scalars refuses", () => {
    expect(() => DateTime.serialize(new Date(Number.NaN))).toThrow(/invalid Date/);
    expect(() => DateTime.serialize("yesterday")).toThrow(/invalid date-time-string/);
    expect(() => DateTime.serialize(true)).toThrow(/non string/);
  });

  it("leaves strings, not dates, in an executed result", async () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: "Query", fields: { at: { type: DateTime, resolve: () => at } } }),
    });
    const result = await execute({ schema, document: parse("{ at }") });
    expect(result).toEqual({ data: { at: "2026-11-24T09:30:00.000Z" } });
    expect(typeof (result.data as { at: unknown }).at).toBe("string");
  });

  it("still parses inputs to dates within 1970..2999", () => {
    expect(DateTime.parseValue("2026-11-24T09:30:00Z")).toEqual(at);
    expect(() => DateTime.parseValue("0000-01-01T00:00:00Z")).toThrow(/between 1970 and 2999/);
  });
});
