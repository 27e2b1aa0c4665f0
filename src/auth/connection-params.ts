/**
 * The Authorization value a WebSocket client put in its connection payload (graphql-ws
 * `connection_init`, or subscriptions-transport-ws `connection_init` alike). Clients spell it
 * four ways: `authorization`, `Authorization`, and either of those under `headers` (Apollo
 * and Hasura clients send `{ headers: { Authorization: "Bearer …" } }`). The value is handed
 * to `authenticate` as an HTTP header would be; null when none of the four is a string.
 */
export function authorizationFromPayload(payload: unknown): string | null {
  if (!isRecord(payload)) return null;
  const headers = isRecord(payload.headers) ? payload.headers : {};
  for (const value of [payload.authorization, payload.Authorization, headers.authorization, headers.Authorization]) {
    if (typeof value === "string") return value;
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
