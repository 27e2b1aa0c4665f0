/**
 * The API process stopped with SIGTERM (the real entry point, on PostgreSQL) while it has a
 * slow HTTP request in flight (a webhook whose body is half sent) and a doctor's open
 * graphql-ws subscription (`myConsultationEvents`). Graceful shutdown means: new connections
 * are refused once the signal is handled; the in-flight request still completes (200) and its
 * webhook is stored; the subscriber's socket closes with 1001 "Going away"; the process exits
 * 0 within SHUTDOWN_TIMEOUT_MS plus a margin.
 */
import http from "node:http";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAccessToken } from "../../src/auth/access-token.js";
import { videoConsultations } from "../../src/db/schema.js";
import { encodeEventId } from "../../src/consultations/event-cursor.js";
import { MyConsultationEventsDocument } from "../gql/graphql.js";
import { TEST_JWT_SECRET } from "../support/api.js";
import { createCareTeam } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { peerJoinSuccess } from "../support/hms-webhooks.js";
import { postWebhook } from "../support/webhook-stream.js";
import { subscribe } from "../support/ws.js";
import { ensureStopped, realApiEnv, skipReason, startRealApi, WEBHOOK_HEADERS, type RealApi } from "./real-api.js";

const SHUTDOWN_TIMEOUT_MS = 3000;
/** Exit must come within the grace period plus this (process teardown on a busy machine). */
const EXIT_MARGIN_MS = 2500;

let test: TestDatabase;
let api: RealApi | undefined;

describe.skipIf(skipReason !== null)(`The API process stopped with SIGTERM${skipReason ? ` (${skipReason})` : ""}`, () => {
  beforeAll(async () => {
    test = await createTestDatabase({ driver: "postgres" });
  }, 60_000);

  afterAll(async () => {
    await ensureStopped(api);
    await test?.close();
  });

  it("refuses new connections, finishes the in-flight request, closes subscriptions with 1001, exits 0", async () => {
    const team = await createCareTeam(test.database.db);
    const roomId = `room-${team.consultation.id}`;
    await test.database.db.update(videoConsultations).set({ roomId }).where(eq(videoConsultations.id, team.consultation.id));
    const doctorToken = await signAccessToken(TEST_JWT_SECRET, team.doctor.user.id);
    api = await startRealApi(
      realApiEnv(test.url!, { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), RECONCILE_INTERVAL_SECONDS: "0" }),
    );
    const running = api;

    const ctx = { appId: "app-sigterm", accountId: "acct-sigterm" };
    const session = {
      roomId,
      roomName: "consultation-x",
      templateId: "tpl",
      sessionId: "session-sigterm",
      sessionStartedAt: new Date(Date.now() - 60_000),
    };
    const peer = (userId: string, role: string, peerId: string) =>
      ({ peerId, userId, userName: role, userData: "", role, joinedAt: new Date(Date.now() - 30_000) });

    // The slow request first: headers and half of a valid webhook body now, the rest after SIGTERM.
    const slow = peerJoinSuccess(ctx, session, peer(team.doctor.user.id, "doctor", "peer-doctor-1"));
    const payload = Buffer.from(JSON.stringify(slow));
    const half = Math.floor(payload.length / 2);
    const slowRequest = http.request(`${running.url}/webhooks/100ms`, {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json", "content-length": String(payload.length), ...WEBHOOK_HEADERS },
    });
    const slowResponse = new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
      slowRequest.on("response", (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (c: Buffer) => chunks.push(c));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
      });
      slowRequest.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    });
    slowRequest.write(payload.subarray(0, half));

    // The doctor's dashboard, provably live: the patient's join is in the log, and the
    // subscription (replaying from the start of the log) delivers it.
    const join = peerJoinSuccess(ctx, session, peer(team.patient.user.id, "patient", "peer-patient-1"));
    expect(await postWebhook(`${running.url}/webhooks/100ms`, join, WEBHOOK_HEADERS)).toMatchObject({ kind: "acknowledged" });
    const dashboard = subscribe(running.url, doctorToken, MyConsultationEventsDocument, { after: encodeEventId(0) });
    const [first] = await dashboard.waitFor(1, 15_000);
    expect(first!.myConsultationEvents).toMatchObject({ type: "PARTICIPANT_JOINED", consultation: { id: team.consultation.id } });

    // Let the headers reach the server (its 'request' event) before the signal. The round
    // trips above (a webhook, a subscription) already went through the same event loop after
    // them; this is a settle delay, not a timing assertion.
    await new Promise((r) => setTimeout(r, 200));

    const signalledAt = performance.now();
    const wsClosedAt = dashboard.closed.then((code) => ({ code, ms: Math.round(performance.now() - signalledAt) }));
    const exitedAt = running.process.exited.then((code) => ({ code, ms: Math.round(performance.now() - signalledAt) }));
    running.process.child.kill("SIGTERM");
    await running.process.waitFor(/"shutting down"/, 5000);

    // New connections: refused once the server stopped listening (poll briefly, since the
    // close is a tick after the signal handler; a connection accepted meanwhile is noted).
    const probes: string[] = [];
    const probeUntil = performance.now() + 2000;
    while (performance.now() < probeUntil) {
      const result = await probe(running.port);
      probes.push(result);
      if (result === "ECONNREFUSED") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const refusedAfterMs = Math.round(performance.now() - signalledAt);

    // The rest of the in-flight body; the response must still come.
    slowRequest.end(payload.subarray(half));
    const slowResult = await slowResponse;
    const slowDoneMs = Math.round(performance.now() - signalledAt);
    const ws = await Promise.race([wsClosedAt, timeout(SHUTDOWN_TIMEOUT_MS + 10_000, "no close")]);
    const exit = await Promise.race([exitedAt, timeout(SHUTDOWN_TIMEOUT_MS + 10_000, "no exit")]);
    const storedRows = await test.database.rows<{ n: number }>(sql`select count(*)::int as n from hms_webhook_events where id = ${slow.id}`);

    const observed = {
      probes,
      refusedAfterMs,
      slow: slowResult,
      slowDoneMs,
      slowStored: storedRows[0]?.n ?? 0,
      wsClose: ws,
      exit,
      exitSignal: running.process.child.signalCode,
    };
    console.info(`[sigterm] observed ${JSON.stringify(observed)}`);
    const shutdownLog = running.process
      .output()
      .split("\n")
      .filter((l) => /shutting down|shutdown|error/i.test(l));
    console.info(`[sigterm] shutdown log lines:\n${shutdownLog.join("\n")}`);

    expect.soft(probes.at(-1), "a new connection after SIGTERM is refused").toBe("ECONNREFUSED");
    expect.soft(slowResult, "the in-flight request completes").toMatchObject({ status: 200 });
    expect.soft(observed.slowStored, "the in-flight webhook is stored").toBe(1);
    expect.soft(ws, "the subscriber sees 1001 Going away").toMatchObject({ code: 1001 });
    expect.soft(exit, "the process exits 0").toMatchObject({ code: 0 });
    const exitMs = typeof exit === "object" ? exit.ms : Number.POSITIVE_INFINITY;
    expect.soft(exitMs, "exit within SHUTDOWN_TIMEOUT_MS + margin").toBeLessThan(SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);
  }, 60_000);
});

/** One TCP connection attempt: "ECONNREFUSED" (or another error code), or "accepted". */
function probe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve("accepted");
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve("timeout");
    });
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

function timeout(ms: number, label: string): Promise<string> {
  return new Promise((resolve) => setTimeout(() => resolve(label), ms).unref());
}
