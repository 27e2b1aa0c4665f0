/** Where clients put the bearer token in a WebSocket connection payload. */
import { describe, expect, it } from "vitest";
import { authorizationFromPayload } from "../../src/auth/connection-params.js";

describe("authorizationFromPayload", () => {
  it.each([
    [{ authorization: "Bearer a" }, "Bearer a"],
    [{ Authorization: "Bearer a" }, "Bearer a"],
    [{ headers: { authorization: "Bearer a" } }, "Bearer a"],
    [{ headers: { Authorization: "Bearer a" } }, "Bearer a"],
    // The top level wins over headers, lower case over capitalised.
    [{ authorization: "Bearer top", headers: { authorization: "Bearer nested" } }, "Bearer top"],
    [{ authorization: "Bearer lower", Authorization: "Bearer upper" }, "Bearer lower"],
  ])("reads %j", (payload, expected) => {
    expect(authorizationFromPayload(payload)).toBe(expected);
  });

  it.each([undefined, null, "Bearer a", ["Bearer a"], {}, { authorization: 42 }, { headers: "Bearer a" }, { headers: [{ authorization: "Bearer a" }] }, { AUTHORIZATION: "Bearer a" }])(
    "finds nothing in %j",
    (payload) => {
      expect(authorizationFromPayload(payload)).toBeNull();
    },
  );
});
