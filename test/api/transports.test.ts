/**
 * The one table every rule of the request pipeline is tested in: each row runs over all four
 * ways in (HTTP, graphql-ws, the legacy protocol, SSE) with each transport's real client, and
 * must give the same outcome (data, error codes) and write the same audit records on every
 * one. A new rule (a limit, an audit, a permission) gets its row here.
 *
 * The server runs in production mode (introspection off, no schema hints). Each transport has
 * its own care team and users, so the audit records of one never meet another's.
 */
import { sql } from "drizzle-orm";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAccessToken } from "../../src/auth/access-token.js";
import { encodeEventId } from "../../src/consultations/event-cursor.js";
import { rowsOf } from "../../src/db/batch-sql.js";
import { CancelConsultationDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeam, createConsultation, createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { runOver, TRANSPORTS, type Operation, type Outcome, type Transport } from "../support/transports.js";

const DENIALS_PER_MINUTE = 5;

let test: TestDatabase;
let api: TestApi;

interface Fixture {
  /** Placeholder -> id, for rows and for reading outcomes back. */
  ids: Record<string, string>;
  doctor: string;
  /** The patient of the doctor's consultations. */
  patient: string;
  /** An admin: on neither side of any call. */
  admin: string;
  intruder: string;
  /** A user who spends the refused-attempts budget. */
  prober: string;
  expired: string;
  foreign: string;
  actors: string[];
}

const fixtures = new Map<Transport, Fixture>();

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test, { NODE_ENV: "production", RATE_LIMIT_DENIALS_PER_MINUTE: String(DENIALS_PER_MINUTE) });
  for (const transport of TRANSPORTS) fixtures.set(transport, await fixtureFor());
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

async function fixtureFor(): Promise<Fixture> {
  const db = test.database.db;
  const team = await createCareTeam(db);
  const second = await createConsultation(db, { doctorId: team.doctor.doctor.id, patientId: team.patient.patient.id });
  // PENDING throughout: the front desk's rows act on it.
  const third = await createConsultation(db, { doctorId: team.doctor.doctor.id, patientId: team.patient.patient.id });
  const intruder = await createCareTeam(db);
  const prober = await createCareTeam(db);
  const admin = await createUser(db, "admin");
  const doctor = await api.tokenFor(team.doctor.user.id);
  // One event in the consultation's log, for the subscription rows to replay.
  await api.gql(CancelConsultationDocument, { consultationId: team.consultation.id, reason: "table" }, doctor);
  return {
    ids: { "<c>": team.consultation.id, "<c2>": second.consultation.id, "<c3>": third.consultation.id, "<doctor>": team.doctor.user.id },
    doctor,
    patient: await api.tokenFor(team.patient.user.id),
    admin: await api.tokenFor(admin.id),
    intruder: await api.tokenFor(intruder.patient.user.id),
    prober: await api.tokenFor(prober.patient.user.id),
    expired: await signAccessToken(api.config.auth.jwtSecret!, team.doctor.user.id, { ttlSeconds: -120 }),
    foreign: await signAccessToken("another-issuer-secret-0123456789-abcdefghij", team.doctor.user.id),
    actors: [team.doctor.user.id, team.patient.user.id, admin.id, intruder.patient.user.id, prober.patient.user.id],
  };
}

type Who = "doctor" | "patient" | "admin" | "intruder" | "prober" | "expired" | "foreign" | "none";

interface Row {
  name: string;
  who: Who;
  operation: Operation;
  /** Data with ids as placeholders; omitted: not compared (error rows). */
  data?: unknown;
  codes: string[];
  /** Audit records written, as `action outcome subject`, sorted. */
  audit: string[];
  /** Where a transport cannot carry the operation (subscriptions over HTTP). */
  over?: Partial<Record<Transport, Pick<Row, "codes" | "audit">>>;
}

const deep = (levels: number) => {
  let value: unknown = "x";
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
};

const ROWS: Row[] = [
  { name: "a query", who: "doctor", operation: { query: "{ me { id role } }" }, data: { me: { id: "<doctor>", role: "DOCTOR" } }, codes: [], audit: [] },
  {
    name: "a query reading patient data is audited",
    who: "doctor",
    operation: { query: "query ($id: ID!) { consultation(id: $id) { id patient { fullName } } }", variables: { id: "<c>" } },
    codes: [],
    audit: ["consultation.read allowed [<c>]"],
  },
  {
    name: "a mutation",
    who: "doctor",
    operation: { query: "mutation ($id: ID!) { cancelConsultation(consultationId: $id) { id status } }", variables: { id: "<c2>" } },
    data: { cancelConsultation: { id: "<c2>", status: "CANCELLED" } },
    codes: [],
    audit: ["consultation.cancel allowed <c2>"],
  },
  {
    name: "a subscription (replayed from the log)",
    who: "doctor",
    operation: { query: "subscription ($id: ID!, $after: ID) { consultationEvents(consultationId: $id, after: $after) { type status } }", variables: { id: "<c>", after: encodeEventId(0) } },
    data: { consultationEvents: { type: "STATUS_CHANGED", status: "CANCELLED" } },
    codes: [],
    audit: ["subscription.end allowed <c>", "subscription.start allowed <c>"],
    over: { http: { codes: ["BAD_REQUEST"], audit: [] } },
  },
  {
    name: "introspection in production",
    who: "doctor",
    operation: { query: "{ __schema { queryType { name } } }" },
    // One for each introspection field (`__schema`, and `queryType` of type __Type).
    codes: ["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_VALIDATION_FAILED"],
    audit: [],
  },
  { name: "a document that does not parse", who: "doctor", operation: { query: "{ me { id " }, codes: ["GRAPHQL_PARSE_FAILED"], audit: [] },
  { name: "a document that does not validate", who: "doctor", operation: { query: "{ me { idd } }" }, codes: ["GRAPHQL_VALIDATION_FAILED"], audit: [] },
  {
    name: "a document over the depth limit",
    who: "doctor",
    operation: { query: `{ consultations { edges { node { ${"appointment { consultation { ".repeat(6)}id${" } }".repeat(6)} } } } }` },
    codes: ["GRAPHQL_VALIDATION_FAILED"],
    audit: [],
  },
  {
    name: "variables that do not coerce",
    who: "doctor",
    operation: { query: "query ($id: ID!) { consultation(id: $id) { id } }", variables: { id: { not: "an id" } } },
    codes: ["BAD_USER_INPUT"],
    audit: [],
  },
  {
    name: "deeply nested variables",
    who: "doctor",
    operation: { query: "query ($id: ID!) { consultation(id: $id) { id } }", variables: { id: deep(50) } },
    codes: ["BAD_USER_INPUT"],
    audit: [],
  },
  {
    name: "another user's consultation, read",
    who: "intruder",
    operation: { query: "query ($id: ID!) { consultation(id: $id) { id patient { fullName } } }", variables: { id: "<c>" } },
    data: { consultation: null },
    codes: [],
    audit: ["consultation.read denied <c>"],
  },
  {
    name: "another user's consultation, ended",
    who: "intruder",
    operation: { query: "mutation ($id: ID!) { endConsultation(consultationId: $id) { id } }", variables: { id: "<c>" } },
    codes: ["NOT_FOUND"],
    audit: ["consultation.end denied <c>"],
  },
  {
    name: "another user's consultation, subscribed",
    who: "intruder",
    operation: { query: "subscription ($id: ID!) { consultationEvents(consultationId: $id) { type } }", variables: { id: "<c>" } },
    codes: ["NOT_FOUND"],
    audit: ["subscription.start denied <c>"],
    over: { http: { codes: ["BAD_REQUEST"], audit: [] } },
  },
  {
    name: "the call ended by its patient (the consultation's doctor only)",
    who: "patient",
    operation: { query: "mutation ($id: ID!) { endConsultation(consultationId: $id) { id } }", variables: { id: "<c3>" } },
    codes: ["FORBIDDEN"],
    audit: ["consultation.end denied <c3>"],
  },
  {
    name: "a prescription written by the consultation's patient (its doctor only)",
    who: "patient",
    operation: {
      query: "mutation ($input: CreatePrescriptionInput!) { createPrescription(input: $input) { id } }",
      variables: { input: { consultationId: "<c3>", medications: [{ name: "Amoxicillin", dosage: "500 mg", frequency: "3x daily", durationDays: 7 }] } },
    },
    codes: ["FORBIDDEN"],
    audit: ["prescription.create denied <c3>"],
  },
  {
    name: "running late, announced by the consultation's doctor",
    who: "doctor",
    operation: { query: "mutation ($id: ID!) { announceDelay(consultationId: $id, minutes: 10) { id runningLate { minutes } } }", variables: { id: "<c3>" } },
    data: { announceDelay: { id: "<c3>", runningLate: { minutes: 10 } } },
    codes: [],
    audit: ["consultation.delay allowed <c3>"],
  },
  {
    name: "running late, refused to the patient (doctor or admin only)",
    who: "patient",
    operation: { query: "mutation ($id: ID!) { announceDelay(consultationId: $id, minutes: 20) { id } }", variables: { id: "<c3>" } },
    codes: ["FORBIDDEN"],
    audit: ["consultation.delay denied <c3>"],
  },
  {
    name: "running late, another user's consultation",
    who: "intruder",
    operation: { query: "mutation ($id: ID!) { announceDelay(consultationId: $id, minutes: 20) { id } }", variables: { id: "<c3>" } },
    codes: ["NOT_FOUND"],
    audit: ["consultation.delay denied <c3>"],
  },
  {
    name: "running late, bounded (at most 120 minutes)",
    who: "doctor",
    operation: { query: "mutation ($id: ID!) { announceDelay(consultationId: $id, minutes: 121) { id } }", variables: { id: "<c3>" } },
    codes: ["BAD_USER_INPUT"],
    audit: [],
  },
  {
    name: "call quality, the caller's own side (ignored outside the call)",
    who: "patient",
    operation: { query: "mutation ($id: ID!) { reportCallQuality(consultationId: $id, score: 4) { outcome role } }", variables: { id: "<c3>" } },
    data: { reportCallQuality: { outcome: "NOT_IN_CALL", role: "PATIENT" } },
    codes: [],
    audit: [],
  },
  {
    name: "call quality, refused to an admin (no side of the call)",
    who: "admin",
    operation: { query: "mutation ($id: ID!) { reportCallQuality(consultationId: $id, score: 4) { outcome } }", variables: { id: "<c3>" } },
    codes: ["FORBIDDEN"],
    audit: ["consultation.quality denied <c3>"],
  },
  {
    name: "call quality, another user's consultation",
    who: "intruder",
    operation: { query: "mutation ($id: ID!) { reportCallQuality(consultationId: $id, score: 4) { outcome } }", variables: { id: "<c3>" } },
    codes: ["NOT_FOUND"],
    audit: ["consultation.quality denied <c3>"],
  },
  {
    name: "call quality, bounded (a score from 0 to 5)",
    who: "patient",
    operation: { query: "mutation ($id: ID!) { reportCallQuality(consultationId: $id, score: 6) { outcome } }", variables: { id: "<c3>" } },
    codes: ["BAD_USER_INPUT"],
    audit: [],
  },
  { name: "a non-admin listing partner endpoints", who: "doctor", operation: { query: "{ partnerEndpoints { id url } }" }, codes: ["FORBIDDEN"], audit: [] },
  {
    name: "a non-admin creating a partner endpoint",
    who: "doctor",
    operation: { query: "mutation { createPartnerEndpoint(input: { url: \"https://partner.example/hooks\", eventTypes: [STATUS_CHANGED] }) { secret } }" },
    codes: ["FORBIDDEN"],
    audit: ["partnerEndpoint.create denied -"],
  },
  {
    name: "a non-admin changing a partner endpoint",
    who: "patient",
    operation: { query: "mutation ($id: ID!) { updatePartnerEndpoint(id: $id, input: { description: \"x\" }) { id } }", variables: { id: "00000000-0000-4000-8000-000000000028" } },
    codes: ["FORBIDDEN"],
    audit: ["partnerEndpoint.update denied -"],
  },
  { name: "an expired token", who: "expired", operation: { query: "{ me { id } }" }, codes: ["UNAUTHENTICATED"], audit: [] },
  { name: "a token signed by someone else", who: "foreign", operation: { query: "{ me { id } }" }, codes: ["UNAUTHENTICATED"], audit: [] },
  { name: "no token", who: "none", operation: { query: "{ me { id } }" }, codes: ["UNAUTHENTICATED"], audit: [] },
];

describe.each(TRANSPORTS)("over %s", (transport) => {
  it.each(ROWS)("$name", async (row) => {
    const fixture = fixtures.get(transport)!;
    const expected = { codes: row.codes, audit: row.audit, ...row.over?.[transport] };
    const marker = await lastAuditId();
    const outcome = await runOver(transport, api.url, tokenOf(fixture, row.who), withIds(row.operation, fixture));
    expect(outcome.codes).toEqual(expected.codes);
    if (row.data !== undefined && expected.codes.length === 0) expect(placeholders(outcome.data, fixture)).toEqual(row.data);
    expect(outcome.messages.join(" ")).not.toMatch(/Did you mean|Maximum call stack/);
    await expect.poll(() => trail(marker, fixture), { timeout: 10_000 }).toEqual(expected.audit);
  });

  it(`refuses every operation of a user past ${DENIALS_PER_MINUTE} refused attempts a minute, and records them without one row each`, async () => {
    const fixture = fixtures.get(transport)!;
    const marker = await lastAuditId();
    const probe = (id: string) => runOver(transport, api.url, fixture.prober, { query: "mutation ($id: ID!) { endConsultation(consultationId: $id) { id } }", variables: { id } });
    const outcomes: Outcome[] = [];
    for (let i = 0; i < DENIALS_PER_MINUTE; i++) outcomes.push(await probe(fixture.ids["<c>"]!));
    expect(outcomes.map((o) => o.codes)).toEqual(Array(DENIALS_PER_MINUTE).fill(["NOT_FOUND"]));
    expect((await probe(fixture.ids["<c>"]!)).codes).toEqual(["RATE_LIMITED"]);
    expect((await runOver(transport, api.url, fixture.prober, { query: "{ me { id } }" })).codes).toEqual(["RATE_LIMITED"]);
    // The first refusal on its own, the other four folded into one record that counts them.
    await api.api.services.audit.flush();
    expect(await trail(marker, fixture)).toEqual(["consultation.end denied <c>", `consultation.end denied x${DENIALS_PER_MINUTE - 1} -`]);
  });
});

function tokenOf(fixture: Fixture, who: Who): string | null {
  return who === "none" ? null : fixture[who];
}

function withIds(operation: Operation, fixture: Fixture): Operation {
  const text = JSON.stringify(operation.variables ?? {}).replace(/<\w+>/g, (p) => fixture.ids[p] ?? p);
  return { query: operation.query, variables: JSON.parse(text) };
}

function placeholders(value: unknown, fixture: Fixture): unknown {
  let text = JSON.stringify(value ?? null);
  for (const [placeholder, id] of Object.entries(fixture.ids)) text = text.replaceAll(id, placeholder);
  return JSON.parse(text);
}

async function lastAuditId(): Promise<number> {
  await api.api.services.audit.flush();
  const [row] = rowsOf<{ id: string | null }>(await test.database.db.execute(sql`select max(id)::text as id from audit_events`));
  return Number(row?.id ?? 0);
}

/** The fixture's users' audit records after `marker`, as sorted `action outcome subject` lines. */
async function trail(marker: number, fixture: Fixture): Promise<string[]> {
  await api.api.services.audit.flush();
  const rows = rowsOf<{ action: string; outcome: string; repeats: number | null; consultation_id: string | null; consultation_ids: string[] | null }>(
    await test.database.db.execute(
      sql`select action, outcome, repeats, consultation_id, consultation_ids from audit_events where id > ${marker} and actor_id = any(${`{${fixture.actors.join(",")}}`}::uuid[])`,
    ),
  );
  const lines = rows.map((r) => {
    const subject = r.consultation_ids ? `[${r.consultation_ids.join(",")}]` : (r.consultation_id ?? "-");
    return `${r.action} ${r.outcome}${r.repeats ? ` x${r.repeats}` : ""} ${placeholders(subject, fixture) as string}`;
  });
  return lines.sort();
}

/**
 * Variables 20,000 levels deep, written by hand (a client's own JSON.stringify overflows first):
 * BAD_USER_INPUT on every transport, where graphql's recursive coercion would overflow the stack.
 */
describe.each(TRANSPORTS)("variables 20,000 levels deep, over %s", (transport) => {
  it("are refused as BAD_USER_INPUT", async () => {
    // Lists nest in two bytes a level: 40 KB, within every transport's size limit.
    const variables = `${"[".repeat(20_000)}1${"]".repeat(20_000)}`;
    const body = `{"query":"query ($id: ID!) { consultation(id: $id) { id } }","variables":{"id":${variables}}}`;
    expect(await sendRaw(transport, fixtures.get(transport)!.doctor, body)).toContain('"code":"BAD_USER_INPUT"');
  });
});

/** Sends one hand-written operation (`body`: the JSON of query and variables) and returns what came back, as text. */
async function sendRaw(transport: (typeof TRANSPORTS)[number], token: string, body: string): Promise<string> {
  if (transport === "http" || transport === "sse") {
    const path = transport === "http" ? "/graphql" : "/graphql/stream";
    const headers = { "content-type": "application/json", accept: transport === "sse" ? "text/event-stream" : "application/json", authorization: `Bearer ${token}` };
    return (await fetch(`${api.url}${path}`, { method: "POST", headers, body })).text();
  }
  const legacy = transport === "legacy";
  const socket = new WebSocket(api.url.replace(/^http/, "ws") + "/graphql", legacy ? "graphql-ws" : "graphql-transport-ws");
  const frames: string[] = [];
  return new Promise((resolve, reject) => {
    socket.on("error", reject);
    socket.on("close", (code) => resolve(`${frames.join("\n")}\nclosed ${code}`));
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
    socket.on("message", (data) => {
      const frame = String(data);
      frames.push(frame);
      const type = (JSON.parse(frame) as { type: string }).type;
      if (type === "connection_ack") socket.send(`{"id":"1","type":"${legacy ? "start" : "subscribe"}","payload":${body}}`);
      if (type === "error" || type === "data") socket.close();
    });
  });
}
