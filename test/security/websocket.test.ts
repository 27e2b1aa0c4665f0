/**
 * WebSocket abuse from one client IP, on both protocols: a flood of connections without a
 * valid token is refused with 4429 once the anonymous budget (shared with HTTP) is spent,
 * while a valid token still connects; an oversized or malformed frame is one JSON log line,
 * never a stack trace on stderr.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { startTestApi, type TestApi } from "../support/api.js";
import { createPatient } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { connectOutcome } from "../support/ws.js";

let test: TestDatabase;
let limited: TestApi;
let logged: TestApi;
let userId: string;
const logLines: string[] = [];
const BUDGET = 5;

beforeAll(async () => {
  test = await createTestDatabase();
  limited = await startTestApi(test, { RATE_LIMIT_ANONYMOUS_PER_MINUTE: String(BUDGET) });
  logged = await startTestApi(test, { RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000" }, { logs: { write: (line) => void logLines.push(line) } });
  userId = (await createPatient(test.database.db)).user.id;
});

afterAll(async () => {
  await limited?.stop();
  await logged?.stop();
  await test?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("anonymous WebSocket connections", () => {
  it("are refused with 4429 past the per-IP budget, counting sockets closed before connection_init, while a valid token still connects", async () => {
    const outcomes: Array<"connected" | number> = [];
    for (let i = 0; i < BUDGET - 1; i++) outcomes.push(await connectOutcome(limited.url, { authorization: "Bearer not.a.token" }));
    // One socket that never sends connection_init spends the last unit.
    const silent = new WebSocket(limited.url.replace(/^http/, "ws") + "/graphql", "graphql-transport-ws");
    await new Promise((resolve) => silent.on("open", resolve));
    silent.close();
    await new Promise((resolve) => silent.on("close", resolve));
    await new Promise((resolve) => setTimeout(resolve, 200));
    outcomes.push(await connectOutcome(limited.url, { authorization: "Bearer not.a.token" }));
    outcomes.push(await connectOutcome(limited.url, {}));
    expect(outcomes).toEqual([...Array<number>(BUDGET - 1).fill(4403), 4429, 4429]);
    // The same budget as HTTP requests without a valid token.
    expect((await limited.post({ query: "{ __typename }" })).status).toBe(429);
    expect(await connectOutcome(limited.url, { authorization: `Bearer ${await limited.tokenFor(userId)}` })).toBe("connected");
  }, 30_000);
});

/** The legacy protocol's outcome of one connection_init with `payload`, as connectOutcome's. */
function legacyOutcome(httpUrl: string, payload: Record<string, unknown>): Promise<"connected" | number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(httpUrl.replace(/^http/, "ws") + "/graphql", "graphql-ws");
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload })));
    socket.on("message", (data) => {
      if (JSON.parse(String(data)).type !== "connection_ack") return;
      resolve("connected");
      socket.close();
    });
    socket.on("close", (code) => resolve(code));
  });
}

describe("anonymous connections over the legacy protocol", () => {
  it("spend and honour the same per-IP budget", async () => {
    const api = await startTestApi(test, { RATE_LIMIT_ANONYMOUS_PER_MINUTE: "3" });
    try {
      const outcomes = [await legacyOutcome(api.url, { Authorization: "Bearer not.a.token" }), await legacyOutcome(api.url, {})];
      const silent = new WebSocket(api.url.replace(/^http/, "ws") + "/graphql", "graphql-ws");
      await new Promise((resolve) => silent.on("open", resolve));
      silent.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
      outcomes.push(await legacyOutcome(api.url, {}), await connectOutcome(api.url, {}));
      expect(outcomes).toEqual([4403, 4403, 4429, 4429]);
      expect(await legacyOutcome(api.url, { headers: { Authorization: `Bearer ${await api.tokenFor(userId)}` } })).toBe("connected");
    } finally {
      await api.stop();
    }
  }, 30_000);
});

describe.each(["graphql-transport-ws", "graphql-ws"])("refused frames (%s)", (protocol) => {
  const url = () => logged.url.replace(/^http/, "ws") + "/graphql";

  async function refusedFrame(send: (socket: WebSocket) => void): Promise<{ code: number; lines: string[] }> {
    const stderr = vi.spyOn(process.stderr, "write");
    const consoleError = vi.spyOn(console, "error");
    const before = logLines.length;
    const socket = new WebSocket(url(), protocol);
    await new Promise((resolve) => socket.on("open", resolve));
    const code = await new Promise<number>((resolve) => {
      socket.on("close", resolve);
      socket.on("error", () => {});
      send(socket);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(consoleError).not.toHaveBeenCalled();
    expect(stderr).not.toHaveBeenCalled();
    const lines = logLines.slice(before);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    return { code, lines: lines.filter((line) => JSON.parse(line).msg === "WebSocket frame refused") };
  }

  it("an oversized message before connection_init: closed 1009, one JSON log line", async () => {
    const { code, lines } = await refusedFrame((socket) => socket.send("x".repeat(64 * 1024 + 1)));
    expect(code).toBe(1009);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, errorCode: "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" });
  });

  it("a frame with a reserved opcode: closed 1002, one JSON log line", async () => {
    // FIN + opcode 3 (reserved), masked, empty: written under the client's framing.
    const frame = Buffer.from([0x83, 0x80, 1, 2, 3, 4]);
    const { code, lines } = await refusedFrame((socket) => (socket as unknown as { _socket: NodeJS.WritableStream })._socket.write(frame));
    expect(code).toBe(1002);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ errorCode: "WS_ERR_INVALID_OPCODE" });
  });
});
