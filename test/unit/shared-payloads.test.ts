/**
 * A shared `next` payload is serialised once and put back into each socket's message, which
 * must then read exactly as graphql-ws would have written it without the sentinel.
 */
import { stringifyMessage, MessageType } from "graphql-ws";
import { describe, expect, it } from "vitest";
import { SharedPayloads } from "../../src/transport/shared-payloads.js";

describe("SharedPayloads", () => {
  const result = { data: { event: { id: "e1", note: 'quotes " and \u0000 and "payload":"x"}' } } };

  it("writes each socket's message exactly as plain serialisation would, from one JSON of the payload", () => {
    let formats = 0;
    const payloads = new SharedPayloads((r) => (formats++, { ...r }));
    const messages = ["1", "a-uuid", '"}{"'].map((id) => {
      const payload = payloads.payloadOf(result);
      const sent = payloads.expand(stringifyMessage({ id, type: MessageType.Next, payload }, payloads.replacer));
      expect(sent).toBe(JSON.stringify({ id, type: "next", payload: result }));
      return sent;
    });
    expect(formats).toBe(1);
    expect(messages).toHaveLength(3);
  });

  it("leaves other messages alone, whatever their text", () => {
    const payloads = new SharedPayloads((r) => ({ ...r }));
    payloads.payloadOf(result);
    const id = '\u0000shared-payload';
    const error = stringifyMessage({ id, type: MessageType.Error, payload: [{ message: "\u0000shared-payload" }] }, payloads.replacer);
    expect(payloads.expand(error)).toBe(JSON.stringify({ id, type: "error", payload: [{ message: "\u0000shared-payload" }] }));
    const own = stringifyMessage({ id, type: MessageType.Next, payload: { data: { x: "\u0000shared-payload" } } }, payloads.replacer);
    expect(payloads.expand(own)).toBe(own);
  });
});
