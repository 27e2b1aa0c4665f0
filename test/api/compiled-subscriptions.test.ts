/**
 * Subscription events executed by graphql-jit (GRAPHQL_JIT, default on) must be delivered
 * exactly as graphql-js delivers them: two APIs on one database, one each way, serve the same
 * subscriptions (every subscription operation in test/operations/, a field that fails on every
 * event, a subscription refused at subscribe) over graphql-ws and over SSE; each replays the
 * same logged events and then receives the same live ones, and the frames' JSON must be equal.
 * On the compiled API a document's first event runs on graphql-js, the rest on the compiled
 * query (the metrics tell which ran, so the comparison is not graphql-js against itself).
 *
 * graphql-jit 0.8.9 compiled every valid document we tried (directives on nullable variables
 * with defaults, variables inside list and object literals, fragments under skip/include,
 * introspection): its own refusals are of documents validation already refuses. The fallback
 * to graphql-js is therefore reached here through a stand-in: operations named `Uncompilable…`
 * get graphql-jit's failure result (or, `…Throws`, an exception) from `compileQuery`.
 */
import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { getOperationAST, parse, print } from "graphql";
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { encodeEventId } from "../../src/consultations/event-cursor.js";
import * as gql from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeamWithRoom, createDoctor } from "../support/builders.js";
import { scriptedCall } from "../support/call-script.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

vi.mock("graphql-jit", async (importOriginal) => {
  const jit = await importOriginal<typeof import("graphql-jit")>();
  const { GraphQLError, getOperationAST } = await import("graphql");
  const compileQuery: typeof jit.compileQuery = (schema, document, operationName, options) => {
    const name = getOperationAST(document, operationName)?.name?.value ?? "";
    if (name.startsWith("UncompilableThrows")) throw new Error("graphql-jit stand-in: cannot compile");
    if (name.startsWith("Uncompilable")) return { errors: [new GraphQLError("graphql-jit stand-in: cannot compile")] };
    return jit.compileQuery(schema, document, operationName, options);
  };
  return { ...jit, compileQuery };
});

let test: TestDatabase;
let compiled: TestApi;
let plain: TestApi;

beforeAll(async () => {
  test = await createTestDatabase();
  compiled = await startTestApi(test);
  plain = await startTestApi(test, { GRAPHQL_JIT: "false" });
});

afterAll(async () => {
  await compiled?.stop();
  await plain?.stop();
  await test?.close();
});

type Transport = "graphql-ws" | "sse";

/** Every frame a subscription delivers, as JSON (key order included), `next` and terminal error alike. */
interface Frames {
  frames: string[];
  dispose(): void;
}

function framesOver(transport: Transport, api: TestApi, token: string, query: string, variables: Record<string, unknown>): Frames {
  const frames: string[] = [];
  const sink = { next: (value: unknown) => void frames.push(JSON.stringify(value)), error: (error: unknown) => void frames.push(`error ${JSON.stringify(error)}`), complete: () => {} };
  if (transport === "sse") {
    const client = createSseClient({ url: `${api.url}/graphql/stream`, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    const stop = client.subscribe({ query, variables }, sink);
    return { frames, dispose: () => (stop(), client.dispose()) };
  }
  const client = createWsClient({ url: api.url.replace(/^http/, "ws") + "/graphql", webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  const stop = client.subscribe({ query, variables }, sink);
  return { frames, dispose: () => (stop(), void client.dispose()) };
}

/** Resolves once every stream holds `count` frames (or, with none given, the same number for a while). */
async function settled(streams: Frames[], count?: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = -1;
  let quiet = 0;
  while (Date.now() < deadline) {
    const counts = streams.map((s) => s.frames.length);
    const same = counts.every((c) => c === counts[0]);
    if (count !== undefined ? counts.every((c) => c >= count) : same && counts[0]! > 0 && counts[0] === last && ++quiet >= 5) return;
    if (counts[0] !== last) quiet = 0;
    last = counts[0]!;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`streams did not settle: ${streams.map((s) => s.frames.length).join(", ")} frames${count === undefined ? "" : ` of ${count}`}`);
}

async function eventExecutions(api: TestApi): Promise<Record<"compiled" | "graphql-js", number>> {
  const metric = await api.api.services.metrics.graphqlEventExecutions.get();
  const of = (executor: string) => metric.values.find((v) => v.labels.executor === executor)?.value ?? 0;
  return { compiled: of("compiled"), "graphql-js": of("graphql-js") };
}

async function logLength(consultationId: string): Promise<number> {
  const [row] = await test.database.rows<{ n: number }>(sql`select count(*)::int as n from consultation_events where consultation_id = ${consultationId}`);
  return row!.n;
}

interface Case {
  name: string;
  query: string;
  variables: Record<string, unknown>;
  token: string;
  /** Every event of the consultation, or (a refusal) one frame; else as many as the plain API sends. */
  frames?: "whole log" | 1;
  /** Error codes every frame carries, in order (none when absent). */
  codes?: string[];
  compilable?: boolean;
}

const OPERATION_FILES = ["commands", "consultations", "live", "prescriptions"].map((f) => new URL(`../operations/${f}.graphql`, import.meta.url));

function subscriptionNames(): string[] {
  return OPERATION_FILES.flatMap((file) =>
    parse(readFileSync(file, "utf8")).definitions.flatMap((d) => (d.kind === "OperationDefinition" && d.operation === "subscription" && d.name ? [d.name.value] : [])),
  );
}

const codesOf = (frame: string): unknown[] => (JSON.parse(frame.replace(/^error /, "")) as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.map((e) => e.extensions?.code) ?? [];

describe("subscription events on graphql-jit and on graphql-js", () => {
  it("deliver the same frames for every subscription operation, failing fields and refusals included, over graphql-ws and SSE", async () => {
    const db = test.database.db;
    const call = await createCareTeamWithRoom(db);
    const outsider = await createDoctor(db);
    for (const webhook of scriptedCall(call.parties, new Date(Date.now() - 30 * 60_000))) await compiled.webhook(webhook);
    const [doctor, patient, outsiderToken] = await Promise.all([compiled.tokenFor(call.doctor.user.id), compiled.tokenFor(call.patient.user.id), compiled.tokenFor(outsider.user.id)]);
    const one = { consultationId: call.consultation.id, after: encodeEventId(0) };
    const failing = (name: string) =>
      `subscription ${name}($consultationId: ID!, $after: ID) { consultationEvents(consultationId: $consultationId, after: $after) { id type consultation { id events(first: 101) { edges { cursor } } } } }`;

    const cases: Case[] = [
      { name: "ConsultationEvents, doctor", query: print(gql.ConsultationEventsDocument), variables: one, token: doctor, frames: "whole log" },
      { name: "ConsultationEvents, patient", query: print(gql.ConsultationEventsDocument), variables: one, token: patient },
      { name: "MyConsultationEvents, doctor", query: print(gql.MyConsultationEventsDocument), variables: { after: encodeEventId(0) }, token: doctor, frames: "whole log" },
      { name: "LiveConsultation, patient", query: print(gql.LiveConsultationDocument), variables: one, token: patient },
      { name: "a field failing on every event (BAD_USER_INPUT, null propagated)", query: failing("Failing"), variables: one, token: doctor, frames: "whole log", codes: ["BAD_USER_INPUT"] },
      { name: "another doctor's consultation, refused at subscribe (NOT_FOUND)", query: print(gql.ConsultationEventsDocument), variables: one, token: outsiderToken, frames: 1, codes: ["NOT_FOUND"] },
      { name: "not compilable: graphql-js throughout", query: failing("UncompilableEvents"), variables: one, token: doctor, frames: "whole log", codes: ["BAD_USER_INPUT"], compilable: false },
    ];
    expect(new Set(cases.map((c) => getOperationAST(parse(c.query))?.name?.value))).toEqual(
      new Set([...subscriptionNames(), "Failing", "UncompilableEvents"]),
    );

    const before = { compiled: await eventExecutions(compiled), plain: await eventExecutions(plain) };
    const transports: Transport[] = ["graphql-ws", "sse"];
    const opened = cases.map((c) => ({
      c,
      streams: transports.map((transport) => ({ transport, compiled: framesOver(transport, compiled, c.token, c.query, c.variables), plain: framesOver(transport, plain, c.token, c.query, c.variables) })),
    }));
    const all = (o: (typeof opened)[number]) => o.streams.flatMap((s) => [s.compiled, s.plain]);
    const wholeLog = await logLength(call.consultation.id);
    for (const o of opened) await settled(all(o), o.c.frames === "whole log" ? wholeLog : o.c.frames);
    // What each stream replayed (read from the log for it alone) before the live events.
    const replayed = opened.map((o) => o.streams.map((s) => s.compiled.frames.length));

    // Live events on top of the replay: one more doctor connection joins and leaves.
    const later = scriptedCall(call.parties, new Date(Date.now() - 10 * 60_000));
    await compiled.webhook(later[2]);
    await compiled.webhook(later[3]);
    const grown = await logLength(call.consultation.id);
    expect(grown, "live events were logged").toBeGreaterThan(wholeLog);
    for (const o of opened) await settled(all(o), o.c.frames === "whole log" ? grown : o.c.frames);
    await new Promise((resolve) => setTimeout(resolve, 300));

    for (const { c, streams } of opened) {
      for (const s of streams) {
        expect(s.compiled.frames, `${c.name} over ${s.transport}`).toEqual(s.plain.frames);
        expect(new Set(s.plain.frames.map((f) => JSON.stringify(codesOf(f)))), `${c.name} over ${s.transport}: error codes`).toEqual(new Set([JSON.stringify(c.codes ?? [])]));
      }
      for (const s of streams) {
        s.compiled.dispose();
        s.plain.dispose();
      }
    }

    // A replayed event is each stream's own; a live one is executed once for the streams of
    // both transports that share its document, variables and rights. A compilable document's
    // first event ran on graphql-js, the rest compiled (one cache for both transports).
    const after = { compiled: await eventExecutions(compiled), plain: await eventExecutions(plain) };
    const executions = (o: (typeof opened)[number]) => {
      const i = opened.indexOf(o);
      const live = o.streams[0]!.compiled.frames.length - replayed[i]![0]!;
      o.streams.forEach((s, t) => expect(s.compiled.frames.length - replayed[i]![t]!, `${o.c.name}: live frames over ${s.transport}`).toBe(live));
      return replayed[i]!.reduce((n, r) => n + r, 0) + live;
    };
    const executed = opened.filter((o) => o.c.frames !== 1);
    const firstEvents = new Set(executed.filter((o) => o.c.compilable !== false).map((o) => o.c.query)).size;
    const uncompiled = executed.filter((o) => o.c.compilable === false).reduce((n, o) => n + executions(o), 0);
    const total = executed.reduce((n, o) => n + executions(o), 0);
    expect(total, "live events shared across transports").toBeLessThan(executed.reduce((n, o) => n + o.streams.reduce((m, s) => m + s.compiled.frames.length, 0), 0));
    expect({ compiled: after.compiled.compiled - before.compiled.compiled, "graphql-js": after.compiled["graphql-js"] - before.compiled["graphql-js"] }).toEqual({
      compiled: total - firstEvents - uncompiled,
      "graphql-js": firstEvents + uncompiled,
    });
    expect({ compiled: after.plain.compiled - before.plain.compiled, "graphql-js": after.plain["graphql-js"] - before.plain["graphql-js"] }).toEqual({ compiled: 0, "graphql-js": total });
  }, 60_000);
});

describe("a document graphql-jit cannot compile", () => {
  const executions = async (api: TestApi) => {
    const metric = await api.api.services.metrics.graphqlExecutions.get();
    const of = (executor: string) => metric.values.find((v) => v.labels.executor === executor)?.value ?? 0;
    return { compiled: of("compiled"), plain: of("graphql-js") };
  };

  it.each(["UncompilableMe", "UncompilableThrowsMe"])("is answered by graphql-js over HTTP, the same as without graphql-jit (%s)", async (name) => {
    const { user } = await createDoctor(test.database.db);
    const token = await compiled.tokenFor(user.id);
    const body = { query: `query ${name} { me { id role } consultation(id: "not-a-uuid") { id } }`, operationName: name };
    const headers = { authorization: `Bearer ${token}` };
    const beforeCount = await executions(compiled);
    const reference = await plain.post(body, headers);
    // Twice: the second sighting is the one that would be compiled.
    const answers = [await compiled.post(body, headers), await compiled.post(body, headers)];
    const afterCount = await executions(compiled);
    expect(reference.json.data.me).toEqual({ id: user.id, role: "DOCTOR" });
    expect(reference.json.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(["BAD_USER_INPUT"]);
    expect(answers).toEqual([reference, reference]);
    expect({ compiled: afterCount.compiled - beforeCount.compiled, plain: afterCount.plain - beforeCount.plain }).toEqual({ compiled: 0, plain: 2 });
  });
});
