/**
 * A `next` payload serialised once for every socket that sends it. Results are shared between
 * subscriptions (shared-subscribe.ts), but graphql-ws serialises each message, payload
 * included, per socket. Its `jsonMessageReplacer` stands in a short sentinel for a shared
 * payload and remembers the payload's JSON (made once per payload); the socket's `send`, which
 * graphql-ws calls synchronously right after serialising, puts the JSON back in place of the
 * sentinel. The sentinel can only be the last value of a message (graphql-ws writes `id`,
 * `type`, then `payload`), and only this replacer writes it: nothing a client sends can
 * produce it, since a `next` payload is always an object.
 */
import type { ExecutionResult, FormattedExecutionResult } from "graphql";
import type { JSONMessageReplacer } from "graphql-ws";

const SENTINEL = "\u0000shared-payload";
const TAIL = `${JSON.stringify(SENTINEL)}}`;

export class SharedPayloads {
  readonly #formatted = new WeakMap<ExecutionResult, FormattedExecutionResult>();
  readonly #json = new WeakMap<object, string>();
  /** The JSON of the payload the replacer last stood the sentinel in for. */
  #pending = "";

  constructor(private readonly format: (result: ExecutionResult) => FormattedExecutionResult) {}

  /** The formatted payload for a result, the same object for every subscription that sends it. */
  payloadOf(result: ExecutionResult): FormattedExecutionResult {
    let payload = this.#formatted.get(result);
    if (payload === undefined) {
      this.#formatted.set(result, (payload = this.format(result)));
      this.#json.set(payload, JSON.stringify(payload));
    }
    return payload;
  }

  /** graphql-ws's `jsonMessageReplacer`: the sentinel for a shared payload, anything else as it is. */
  readonly replacer: JSONMessageReplacer = (key, value) => {
    if (key !== "payload" || typeof value !== "object" || value === null) return value;
    const json = this.#json.get(value as object);
    if (json === undefined) return value;
    this.#pending = json;
    return SENTINEL;
  };

  /** The message as graphql-ws meant it: the shared payload's JSON where the sentinel stands. */
  expand(data: string): string {
    return data.endsWith(TAIL) ? data.slice(0, data.length - TAIL.length) + this.#pending + "}" : data;
  }
}
