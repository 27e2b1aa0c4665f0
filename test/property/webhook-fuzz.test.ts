/**
 * Property-based fuzzing of POST /webhooks/100ms over real HTTP on loopback, with the right
 * secret header: malformed envelopes (wrong types, missing fields, boundary lengths, bad
 * timestamps), odd unicode, bodies around the 64 KiB limit, deep nesting, non-JSON bytes and
 * garbage `data` for the event types the API acts on, mixed with valid envelopes.
 *
 * Properties, for every body: the status is never >= 500 (the database is up, so not even
 * 503); it is exactly 413 over the limit, 400 for anything that is not a valid envelope and
 * 200 for a valid one; a row appears in hms_webhook_events exactly when the envelope is
 * valid (checked per request and, at the end, against the whole table); every stored event
 * for the "strict" room (well-typed data, times near now) is processed, never left failed;
 * the server keeps answering. What "valid" means is modelled here independently of src/webhooks/envelope.ts:
 * `id` a non-empty string of at most 200, `type` of at most 100, `timestamp` a string of at
 * most 64 that Date.parse accepts, `data` a JSON object.
 *
 * KNOWN_BUGS lists the server bugs this fuzzing found. Each has a minimal `it.fails` test
 * below; the fuzz property tolerates exactly those inputs (and only a 503 that stores
 * nothing, or the fixed behaviour). When a bug is fixed its `it.fails` test fails: turn it
 * into `it` and delete its KNOWN_BUGS entry so the fuzzing holds the fix too.
 *
 * FUZZ_RUNS=n overrides the number of runs, FC_SEED=n replays a seed that fast-check
 * printed, FUZZ_VERBOSE=1 prints what was generated, tolerated and processed.
 */
import { randomUUID } from "node:crypto";
import { count, eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hmsWebhookEvents, videoConsultations } from "../../src/db/schema.js";
import { startTestApi, TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET, type TestApi } from "../support/api.js";
import { createCareTeam } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

let test: TestDatabase;
let api: TestApi;
/** A consultation with a 100ms room, so webhooks for it reach the processor. */
interface Room {
  room: string;
  doctorUserId: string;
  patientUserId: string;
}
/** Its events carry well-typed data with times near now: every one must be processed. */
let strict: Room;
/** Its events carry garbage and extreme times: processing may hit the known bugs below. */
let loose: Room;

async function newRoom(): Promise<Room> {
  const team = await createCareTeam(test.database.db);
  const room = `room-fuzz-${randomUUID()}`;
  await test.database.db.update(videoConsultations).set({ roomId: room }).where(eq(videoConsultations.id, team.consultation.id));
  return { room, doctorUserId: team.doctor.user.id, patientUserId: team.patient.user.id };
}

/** Thousands on PostgreSQL; fewer on the (slower, single-connection) embedded PGlite. */
const runs = () => Number(process.env.FUZZ_RUNS ?? (test.kind === "postgres" ? 2000 : 1500));
const seed = process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {};

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test);
  strict = await newRoom();
  loose = await newRoom();
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

const MAX_BYTES = 64 * 1024;
const ACTED_ON = [
  "session.open.success",
  "session.close.success",
  "peer.join.success",
  "peer.leave.success",
  "peer.join.failure",
  "room.end.success",
  "role.change.success",
] as const;

// ---------------------------------------------------------------------------------------
// The model: what the server must answer for these bytes, from the documented envelope rules.

interface Expected {
  status: 200 | 400 | 413;
  /** The envelope id when valid. */
  id?: string;
  /** KNOWN_BUGS that apply to this valid envelope. */
  bugs: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isValidEnvelope(json: unknown): json is { id: string; type: string; timestamp: string; data: Record<string, unknown> } {
  if (!isObject(json)) return false;
  const { id, type, timestamp, data } = json;
  return (
    typeof id === "string" &&
    id.length >= 1 &&
    id.length <= 200 &&
    typeof type === "string" &&
    type.length >= 1 &&
    type.length <= 100 &&
    typeof timestamp === "string" &&
    timestamp.length <= 64 &&
    plausible(Date.parse(timestamp)) &&
    isObject(data)
  );
}

/** The envelope rule for `timestamp`: a date-time in 1970..2999 (UTC). */
const plausible = (ms: number) => Number.isFinite(ms) && ms >= Date.UTC(1970, 0, 1) && ms < Date.UTC(3000, 0, 1);

/** What PostgreSQL could not store makes a body no envelope: NUL, lone surrogates, nesting deeper than 32. */
function isStorable(json: unknown, bytes: Uint8Array): boolean {
  return nestingDepth(bytes) <= 32 && ![...stringsOf(json)].some((s) => s.includes("\u0000") || LONE_SURROGATE.test(s));
}

function expectedFor(bytes: Uint8Array): Expected {
  if (bytes.length > MAX_BYTES) return { status: 413, bugs: [] };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return { status: 400, bugs: [] };
  }
  if (!isValidEnvelope(json) || !isStorable(json, bytes)) return { status: 400, bugs: [] };
  const bugs = Object.entries(KNOWN_BUGS)
    .filter(([, bug]) => bug.appliesTo(json as Record<string, unknown>, bytes))
    .map(([name]) => name);
  return { status: 200, id: json.id, bugs };
}

/** Every string and key in a JSON value, without recursion (values may be thousands deep). */
function* stringsOf(value: unknown): Generator<string> {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") yield v;
    else if (Array.isArray(v)) stack.push(...v);
    else if (isObject(v)) {
      for (const [k, inner] of Object.entries(v)) {
        yield k;
        stack.push(inner);
      }
    }
  }
}

/** Deepest bracket nesting of a JSON text (outside strings). */
function nestingDepth(bytes: Uint8Array): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * Server bugs found by this fuzzing and not fixed yet (none now: the ones it found are
 * regression tests below). For a valid envelope listed here the property tolerates a 503.
 */
const KNOWN_BUGS: Record<string, { appliesTo(json: Record<string, unknown>, bytes: Uint8Array): boolean }> = {};

// ---------------------------------------------------------------------------------------
// Generators. Bodies are built as JSON *text* so that `__proto__` keys, raw deep nesting
// and exact byte sizes are possible; `uid` makes every generated envelope id unique.

type Build = (uid: string) => Uint8Array;
interface Case {
  kind: string;
  contentType: string | null;
  build: Build;
  /** Send the previous valid envelope again instead (a duplicate delivery). */
  resend: boolean;
}

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, "utf8"));
const str = (s: string) => JSON.stringify(s);
const obj = (entries: ReadonlyArray<readonly [string, string]>) => `{${entries.map(([k, v]) => `${str(k)}:${v}`).join(",")}}`;

const ODD = [
  "\u0000", "\ud800", "\udbff", "\udc00", "\udfff", "\u202e", "\u202d", "\u200f", "\u200b", "\u200d", "\ufeff",
  "\u2028", "\u2029", "\u0301", "\uffff", "\ufffd", "\u001f", "\u007f", "\u0085", "😀", "👩‍⚕️", "é", "中", "ا", "\"",
  "\\", "/", "\n", "\t", " ", "'", "%", "a", "0",
];
/** U+0000 and lone surrogates hit KNOWN_BUGS: rarer, so most odd strings are checked strictly. */
const oddChar = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...ODD.filter((c) => c !== "\u0000" && !LONE_SURROGATE.test(c))) }, { weight: 1, arbitrary: fc.constantFrom(...ODD) });
const oddString = fc.array(oddChar, { maxLength: 24 }).map((a) => a.join(""));
const sqlish = fc.constantFrom("' OR 1=1 --", "'); DROP TABLE hms_webhook_events; --", "\\x00", "$1", "%s%n", "${7*7}", "{{7*7}}", "../../etc/passwd", "NaN", "null", "undefined", "true", "-0", "1e999");
const anyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 16 }),
  fc.string({ unit: "binary", maxLength: 16 }),
  oddString,
  sqlish,
);
const wrongType = fc.oneof(
  fc.integer().map(String),
  fc.constantFrom("0", "-1", "1e308", "-0.0", "true", "false", "null", "[]", "{}", "[null]", '[""]', '{"id":"x"}', "1234567890123456789012345678901234567890"),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
);

/** A field of the envelope: its JSON text, or undefined to leave it out. */
type Field = (uid: string) => string | undefined;

const idField: fc.Arbitrary<Field> = fc.oneof(
  { weight: 10, arbitrary: anyString.map((s): Field => (uid) => str(`${uid}${s}`)) },
  { weight: 1, arbitrary: fc.constant<Field>((uid) => str(uid.padEnd(200, "x"))) },
  { weight: 1, arbitrary: fc.integer({ min: 201, max: 400 }).map((n): Field => (uid) => str(uid.padEnd(n, "y"))) },
  { weight: 1, arbitrary: fc.constant<Field>(() => str("")) },
  { weight: 2, arbitrary: wrongType.map((v): Field => () => v) },
  { weight: 1, arbitrary: fc.constant<Field>(() => undefined) },
);

const typeField: fc.Arbitrary<Field> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...ACTED_ON).map((t): Field => () => str(t)) },
  { weight: 2, arbitrary: fc.constantFrom("recording.success", "beam.started.success", "session.open.failure", "Peer.Join.Success", " peer.join.success").map((t): Field => () => str(t)) },
  { weight: 2, arbitrary: anyString.map((s): Field => () => str(s)) },
  { weight: 1, arbitrary: fc.constantFrom(100, 101, 1000).map((n): Field => () => str("t".repeat(n))) },
  { weight: 2, arbitrary: wrongType.map((v): Field => () => v) },
  { weight: 1, arbitrary: fc.constant<Field>(() => undefined) },
);

const realisticDate = fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true });
const dateText = fc.oneof(
  { weight: 8, arbitrary: realisticDate.map((d) => d.toISOString()) },
  { weight: 2, arbitrary: realisticDate.map((d) => d.toISOString().replace(".000Z", "Z").replace(/\.(\d{3})Z$/, ".$1456Z")) },
  { weight: 2, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00", "+275760-09-13T00:00:00Z",
      "-271821-04-20T00:00:00Z", "1970-01-01T00:00:00Z", "1", "0", "2026", "Tue, 24 Nov 2026 10:00:00 GMT", "2026-11-24 10:00",
      "  2026-11-24T10:00:00Z  ", "2026-11-24T10:00:00+14:00", "November 24, 2026",
    ),
  },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.constantFrom("yesterday", "", "2026-13-45T99:99:99Z", "2026-11-24T10:00:00Z\u0000", "٢٠٢٦-١١-٢٤", "NaN", "Infinity"),
      anyString,
      fc.constantFrom(65, 100, 1000).map((n) => `2026-11-24T10:00:00Z${" ".repeat(n - 20)}`),
    ),
  },
);

const timestampField: fc.Arbitrary<Field> = fc.oneof(
  { weight: 10, arbitrary: dateText.map((t): Field => () => str(t)) },
  { weight: 1, arbitrary: fc.integer().map((n): Field => () => String(n)) },
  { weight: 1, arbitrary: wrongType.map((v): Field => () => v) },
  { weight: 1, arbitrary: fc.constant<Field>(() => undefined) },
);

/** Garbage for the fields the acted-on types read. */
const peerishValue = fc.oneof(
  { weight: 3, arbitrary: anyString.map(str) },
  { weight: 2, arbitrary: fc.constantFrom(() => str(loose.room), () => str(loose.doctorUserId), () => str(loose.patientUserId), () => str("doctor"), () => str("patient")).map((f) => f()) },
  { weight: 2, arbitrary: dateText.map(str) },
  { weight: 1, arbitrary: fc.constantFrom(200, 201, 500, 501).map((n) => str("p".repeat(n))) },
  { weight: 2, arbitrary: wrongType },
);
const DATA_KEYS = [
  "room_id", "peer_id", "session_id", "user_id", "role", "joined_at", "left_at", "reason", "error_message",
  "session_started_at", "session_stopped_at", "room_name", "__proto__", "constructor", "toString", "", "\u0000", "\ud800",
] as const;
const dataKey = fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...DATA_KEYS.slice(0, -2)) }, { weight: 1, arbitrary: fc.constantFrom(...DATA_KEYS) });
const garbageData = fc
  .tuple(
    fc.uniqueArray(fc.tuple(dataKey, peerishValue), { maxLength: 12, selector: ([k]) => k }),
    fc.boolean(),
  )
  // Lazy: the room and users only exist once beforeAll ran.
  .map(([entries, withRoom]) => () => obj(withRoom ? [["room_id", str(loose.room)], ...entries.filter(([k]) => k !== "room_id")] : entries));

const dataField: fc.Arbitrary<Field> = fc.oneof(
  { weight: 10, arbitrary: garbageData.map((make): Field => () => make()) },
  { weight: 1, arbitrary: fc.constant<Field>(() => "{}") },
  { weight: 2, arbitrary: fc.dictionary(anyString, fc.jsonValue({ maxDepth: 4 })).map((d): Field => () => obj(Object.entries(d).map(([k, v]) => [k, JSON.stringify(v)]))) },
  { weight: 3, arbitrary: wrongType.map((v): Field => () => v) },
  { weight: 1, arbitrary: fc.constant<Field>(() => undefined) },
);

const extraFields = fc.uniqueArray(
  fc.tuple(fc.constantFrom("version", "account_id", "app_id", "__proto__", "constructor", "ID", "Type", "data ", "extra"), wrongType),
  { maxLength: 4, selector: ([k]) => k },
);

/** The four envelope fields in a random order, each maybe wrong, plus extras. */
const envelopeText = fc
  .record({ id: idField, type: typeField, timestamp: timestampField, data: dataField, extras: extraFields, order: fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }) })
  .map(({ id, type, timestamp, data, extras, order }) => (uid: string) => {
    const named: Array<readonly [string, string | undefined]> = [
      ["id", id(uid)],
      ["type", type(uid)],
      ["timestamp", timestamp(uid)],
      ["data", data(uid)],
    ];
    const fields = order.map((i) => named[i]!).filter((f): f is readonly [string, string] => f[1] !== undefined);
    return obj([...fields, ...extras]);
  });

const NOW = Date.now();
/** Times within 12 h of now, in the shapes 100ms (and the Go zero time) may use. */
const nearTime = fc.integer({ min: -12 * 3_600_000, max: 12 * 3_600_000 }).map((offset) => new Date(NOW + offset));
const nearTimeText = fc.oneof(
  { weight: 6, arbitrary: nearTime.map((d) => d.toISOString()) },
  { weight: 1, arbitrary: nearTime.map((d) => d.toISOString().replace(/\.\d{3}Z$/, "Z")) },
  { weight: 1, arbitrary: nearTime.map((d) => d.toISOString().replace(/Z$/, "456+00:00")) },
  { weight: 1, arbitrary: fc.constantFrom("0001-01-01T00:00:00Z", "", "garbage") },
);

/** Well-typed data for a consultation's room, with odd values: reaches the presence rules. */
const roomEventData = (getRoom: () => Room, time: fc.Arbitrary<string>) => fc
  .record({
    peer: fc.oneof(fc.uuid(), anyString),
    session: fc.oneof(fc.constantFrom("s1", "s2"), anyString),
    side: fc.constantFrom("doctor", "patient", "other"),
    role: fc.oneof(fc.constantFrom("doctor", "patient"), anyString),
    times: fc.array(fc.tuple(fc.constantFrom("joined_at", "left_at", "session_started_at", "session_stopped_at"), time), { maxLength: 4 }),
    reason: fc.option(anyString),
  })
  .map(({ peer, session, side, role, times, reason }) => () => {
    const { room, doctorUserId, patientUserId } = getRoom();
    const user = side === "doctor" ? doctorUserId : side === "patient" ? patientUserId : randomUUID();
    const entries: Array<[string, string]> = [
      ["room_id", str(room)],
      ["peer_id", str(peer)],
      ["session_id", str(session)],
      ["user_id", str(user)],
      ["role", str(role)],
      ...times.map(([k, t]): [string, string] => [k, str(t)]),
    ];
    if (reason !== null) entries.push(["reason", str(reason)], ["error_message", str(reason)]);
    return obj(entries);
  });

/** A valid envelope for an acted-on type (with garbage data): must be stored. */
const validEnvelopeText = fc
  .record({
    type: fc.constantFrom(...ACTED_ON),
    suffix: fc.string({ maxLength: 20 }),
    timed: fc.oneof(
      { weight: 2, arbitrary: fc.record({ at: realisticDate, data: garbageData }) },
      { weight: 2, arbitrary: fc.record({ at: realisticDate, data: roomEventData(() => loose, dateText) }) },
      { weight: 3, arbitrary: fc.record({ at: nearTime, data: roomEventData(() => strict, nearTimeText) }) },
    ),
  })
  .map(({ timed: { at, data }, ...rest }) => ({ ...rest, at, data }))
  .map(({ type, at, data, suffix }) => (uid: string) =>
    obj([
      ["version", str("2.0")],
      ["id", str(`${uid}${suffix}`)],
      ["account_id", str("acc")],
      ["app_id", str("app")],
      ["timestamp", str(at.toISOString())],
      ["type", str(type)],
      ["data", data()],
    ]),
  );

const FILL_CHARS = ["x", "é", "中", "😀", "\u0000", "\ud800", "\\", '"'] as const;
/** Bodies padded to an exact byte size around the 64 KiB limit. */
const sizedBody = fc
  .record({
    envelope: fc.oneof(validEnvelopeText.map((f) => (uid: string) => f(uid)), envelopeText.map((f) => (uid: string) => f(uid))),
    target: fc.oneof(fc.constantFrom(MAX_BYTES - 1, MAX_BYTES, MAX_BYTES + 1), fc.integer({ min: 20_000, max: MAX_BYTES }), fc.integer({ min: MAX_BYTES + 1, max: 200_000 })),
    fill: fc.constantFrom(...FILL_CHARS),
    where: fc.constantFrom("top", "id", "data"),
  })
  .map(({ envelope, target, fill, where }): Build => (uid) => {
    const base = envelope(uid);
    const marker = "@@FILL@@";
    // Put a placeholder where the filler goes, then size it to hit `target` bytes exactly.
    let template: string;
    if (where === "id" && base.includes(`"id":"${uid}`)) template = base.replace(`"id":"${uid}`, `"id":"${uid}${marker}`);
    else if (where === "data" && base.includes('"data":{')) template = base.replace('"data":{', `"data":{"filler":"${marker}",`).replace(`${marker}",}`, `${marker}"}`);
    else template = `${base.slice(0, -1)}${base.length > 2 ? "," : ""}"filler":"${marker}"}`;
    const [before, after] = template.split(marker) as [string, string];
    const unit = JSON.stringify(fill).slice(1, -1);
    const need = target - Buffer.byteLength(before + after, "utf8");
    const unitBytes = Buffer.byteLength(unit, "utf8");
    const filler = need > 0 ? unit.repeat(Math.floor(need / unitBytes)) + "x".repeat(need % unitBytes) : "";
    return utf8(before + filler + after);
  });

/** Nesting 1000+ deep, as text (JSON.stringify of such values overflows the stack). */
const deepBody = fc
  .record({ depth: fc.integer({ min: 1000, max: 40_000 }), shape: fc.constantFrom("array", "object", "mixed"), where: fc.constantFrom("data.x", "data", "top", "id", "timestamp"), at: realisticDate, suffix: fc.string({ maxLength: 8 }) })
  .map(({ depth, shape, where, at, suffix }): Build => (uid) => {
    const levels = shape === "mixed" ? Math.ceil(depth / 2) : depth;
    const open = shape === "array" ? "[" : shape === "object" ? '{"a":' : '{"a":[';
    const close = shape === "array" ? "]" : shape === "object" ? "}" : "]}";
    const deep = `${open.repeat(levels)}${shape === "array" ? "" : "1"}${close.repeat(levels)}`;
    if (where === "top") return utf8(deep);
    const fields: Array<[string, string]> = [
      ["id", where === "id" ? deep : str(`${uid}${suffix}`)],
      ["type", str("peer.join.success")],
      ["timestamp", where === "timestamp" ? deep : str(at.toISOString())],
      ["data", where === "data" ? (shape === "array" ? `{"x":${deep}}` : deep) : obj([["room_id", str(loose.room)], ["x", deep]])],
    ];
    return utf8(obj(fields));
  });

/** Bytes that are not (a valid UTF-8 text of) JSON, or only nearly. */
const notJson = fc.oneof(
  fc.uint8Array({ maxLength: 400 }).map((b): Build => () => b),
  fc.constantFrom("", " ", "{", "}", "[", "{not json", "{'id':'x'}", '{"id":"x",}', "{id:1}", "// x\n{}", "NaN", "Infinity", "undefined", "\u0000", "\ufeff{}", '{"a":1}{"b":2}', '{"a":1} x', "{\"a\":\"\\x41\"}", '"\\ud800"').map((t): Build => () => utf8(t)),
  fc
    .tuple(validEnvelopeText, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("flip", "insert", "delete", "truncate")), { minLength: 1, maxLength: 4 }))
    .map(([envelope, edits]): Build => (uid) => {
      const bytes = [...utf8(envelope(uid))];
      for (const [at, byte, op] of edits) {
        const i = at % (bytes.length + 1);
        if (op === "flip") bytes[Math.min(i, bytes.length - 1)] = byte;
        else if (op === "insert") bytes.splice(i, 0, byte);
        else if (op === "delete") bytes.splice(i, 1);
        else bytes.length = i;
      }
      return new Uint8Array(bytes);
    }),
  // Invalid UTF-8 inside a string of a valid envelope: decoded as U+FFFD, still valid.
  validEnvelopeText.map((envelope): Build => (uid) => {
    const text = envelope(uid).replace('"acc"', '"a\u0001c"');
    const bytes = utf8(text);
    const i = bytes.indexOf(0x01);
    return new Uint8Array([...bytes.slice(0, i), 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xff, ...bytes.slice(i + 1)]);
  }),
  validEnvelopeText.map((envelope): Build => (uid) => new Uint8Array(Buffer.from(envelope(uid), "utf16le"))),
);

/** JSON that is not an object at the top. */
const notAnObject = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).filter((v) => !isObject(v)).map((v): Build => () => utf8(JSON.stringify(v))),
  validEnvelopeText.map((envelope): Build => (uid) => utf8(`[${envelope(uid)}]`)),
  validEnvelopeText.map((envelope): Build => (uid) => utf8(str(envelope(uid)))),
);

const contentType = fc.constantFrom<string | null>("application/json", "application/json", "text/plain", "application/octet-stream", "application/json; charset=utf-16", null);

const cases: fc.Arbitrary<Case> = fc
  .tuple(
    fc.oneof(
      { weight: 6, arbitrary: envelopeText.map((f) => ({ kind: "envelope", build: (uid: string) => utf8(f(uid)) })) },
      { weight: 4, arbitrary: validEnvelopeText.map((f) => ({ kind: "valid", build: (uid: string) => utf8(f(uid)) })) },
      { weight: 1, arbitrary: sizedBody.map((build) => ({ kind: "sized", build })) },
      { weight: 1, arbitrary: deepBody.map((build) => ({ kind: "deep", build })) },
      { weight: 2, arbitrary: notJson.map((build) => ({ kind: "not-json", build })) },
      { weight: 1, arbitrary: notAnObject.map((build) => ({ kind: "not-object", build })) },
    ),
    contentType,
    fc.nat(30),
  )
  .map(([c, type, dice]) => ({ ...c, contentType: type, resend: dice === 0 }));

// ---------------------------------------------------------------------------------------

async function send(bytes: Uint8Array, contentType: string | null) {
  const headers: Record<string, string> = { [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET };
  if (contentType) headers["content-type"] = contentType;
  const response = await fetch(`${api.url}/webhooks/100ms`, { method: "POST", headers, body: bytes });
  const body = await response.text();
  // Applied after the 200: wait, so the next case's model of "processed" is settled.
  await api.settled();
  return { status: response.status, body };
}

const storedCount = async () => (await test.database.db.select({ n: count() }).from(hmsWebhookEvents))[0]!.n;
const processed = async (id: string) =>
  (await test.database.db.select({ at: hmsWebhookEvents.processedAt }).from(hmsWebhookEvents).where(eq(hmsWebhookEvents.id, id)))[0]?.at != null;
/** What PostgreSQL stores for a string: lone surrogates become U+FFFD on the way in. */
const asStored = (id: string) => id.replace(new RegExp(LONE_SURROGATE.source, "g"), "\ufffd");

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let counter = 0;

describe("POST /webhooks/100ms under fuzzing", () => {
  const expectedStored = new Set<string>();
  const tolerated = new Map<string, number>();
  const seen = new Map<string, number>();
  let lastValid: { bytes: Uint8Array; id: string } | null = null;

  it("never answers >= 500, answers 413/400/200 as the envelope rules say, and stores exactly the valid envelopes", async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const uid = `fz-${run}-${++counter}-`;
        const replay = c.resend && lastValid !== null ? lastValid : null;
        const bytes = replay ? replay.bytes : c.build(uid);
        const expected = expectedFor(bytes);
        seen.set(c.kind, (seen.get(c.kind) ?? 0) + 1);
        const before = await storedCount();
        const wasProcessed = expected.id !== undefined && expectedStored.has(asStored(expected.id)) && (await processed(asStored(expected.id)));
        const response = await send(bytes, c.contentType);
        const added = (await storedCount()) - before;
        const context = `${c.kind}: ${Buffer.from(bytes).toString("utf8").slice(0, 300)}`;

        if (expected.status !== 200) {
          expect(response.status, context).toBe(expected.status);
          expect(added, context).toBe(0);
          return;
        }
        if (expected.bugs.length > 0 && response.status !== 200) {
          // A known bug (see KNOWN_BUGS): 503 now; 400 would be an acceptable fix. Never stored.
          expect([400, 503], context).toContain(response.status);
          expect(added, context).toBe(0);
          for (const bug of expected.bugs) tolerated.set(bug, (tolerated.get(bug) ?? 0) + 1);
          return;
        }
        expect(response.status, context).toBe(200);
        const id = asStored(expected.id!);
        const isNew = !expectedStored.has(id);
        // A redelivery is "duplicate" once processed; an unprocessed one is processed again.
        expect(JSON.parse(response.body), context).toEqual({ status: isNew || !wasProcessed ? "accepted" : "duplicate" });
        expect(added, context).toBe(isNew ? 1 : 0);
        expectedStored.add(id);
        if (expected.bugs.length === 0) lastValid = { bytes, id: expected.id! };
        if (replay) expect(isNew, context).toBe(false);
      }),
      { numRuns: runs(), ...seed },
    );
    if (process.env.FUZZ_VERBOSE) {
      console.info(`webhook fuzz: ${runs()} runs in ${Date.now() - started} ms on ${test.kind}`, Object.fromEntries(seen), "tolerated:", Object.fromEntries(tolerated));
    }
    // Valid envelopes were generated and stored (the generators did not drift into all-invalid).
    expect(expectedStored.size).toBeGreaterThan(runs() / 10);
  }, 120_000);

  it("has stored exactly the ids of the valid envelopes sent, nothing else", async () => {
    const rows = await test.database.db.select({ id: hmsWebhookEvents.id }).from(hmsWebhookEvents);
    expect(rows.length).toBe(expectedStored.size);
    expect(new Set(rows.map((r) => r.id))).toEqual(expectedStored);
  });

  it("processed every stored event for the strict room (none left failed or unprocessed)", async () => {
    const rows = await test.database.db
      .select({ id: hmsWebhookEvents.id, roomId: hmsWebhookEvents.roomId, outcome: hmsWebhookEvents.outcome, at: hmsWebhookEvents.processedAt, payload: hmsWebhookEvents.payload })
      .from(hmsWebhookEvents);
    const outcomes = (room: string | null) => {
      const counts: Record<string, number> = {};
      for (const r of rows.filter((r) => room === null || r.roomId === room)) counts[String(r.outcome)] = (counts[String(r.outcome)] ?? 0) + 1;
      return counts;
    };
    if (process.env.FUZZ_VERBOSE) console.info("outcomes: all", outcomes(null), "strict room", outcomes(strict.room), "loose room", outcomes(loose.room));
    // The loose room's extreme times hit processingOutOfRangeTime / connectedMsOverflow (known
    // bugs, see their it.fails tests); every other stored event must have been processed.
    const unprocessed = rows.filter((r) => r.roomId !== loose.room && (r.at === null || r.outcome === "failed"));
    expect(unprocessed).toEqual([]);
    // The processor was reached: events applied to the consultation, others refused as invalid.
    expect(outcomes(strict.room).applied ?? 0).toBeGreaterThan(0);
    expect(outcomes(null).invalid_data ?? 0).toBeGreaterThan(0);
  });

  it("keeps answering afterwards", async () => {
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    const id = randomUUID();
    const body = { id, type: "peer.join.success", timestamp: new Date().toISOString(), data: { room_id: strict.room, peer_id: randomUUID() } };
    expect(await api.webhook(body)).toBe(200);
    const [row] = await test.database.db.select().from(hmsWebhookEvents).where(eq(hmsWebhookEvents.id, id));
    expect(row?.type).toBe("peer.join.success");
  });
});

/**
 * Minimal reproductions of the bugs found: valid envelopes (to be stored and acknowledged by
 * the rules above) that the server answers with 503, so 100ms would retry them forever; and
 * stored events that can never be applied. `it.fails` while the bug is there.
 */
describe("bugs this fuzzing found (minimal inputs, fixed)", () => {
  const minimal = (overrides: Record<string, unknown>) =>
    JSON.stringify({ id: randomUUID(), type: "peer.join.success", timestamp: "2026-11-24T10:00:00Z", data: { room_id: "r" }, ...overrides });
  const expectAcknowledged = async (body: string) => {
    const response = await send(utf8(body), "application/json");
    expect(response.status).toBeLessThan(500);
  };

  it("nul: U+0000 in a string of data is a 400, not a 503", async () => {
    await expectAcknowledged(minimal({ data: { room_id: "a\u0000b" } }));
  });

  it("loneSurrogate: a lone surrogate escape in data is a 400, not a 503", async () => {
    await expectAcknowledged(minimal({ data: { room_id: "\ud800" } }));
  });

  it("timestampOutOfRange: timestamp 0000-01-01T00:00:00Z (Date.parse accepts it) is a 400, not a 503", async () => {
    await expectAcknowledged(minimal({ timestamp: "0000-01-01T00:00:00Z" }));
  });

  const expectProcessed = async (envelope: Record<string, unknown>) => {
    expect(await api.webhook(envelope)).toBe(200);
    const [row] = await test.database.db.select().from(hmsWebhookEvents).where(eq(hmsWebhookEvents.id, envelope.id as string));
    expect({ outcome: row?.outcome, processed: row?.processedAt != null }).toEqual({ outcome: expect.not.stringMatching(/^failed$/), processed: true });
  };

  it("processingOutOfRangeTime: joined_at 0000-01-01T00:00:00Z is stored and ends invalid_data, not failing forever", async () => {
    const { room, patientUserId } = await newRoom();
    await expectProcessed({
      id: randomUUID(),
      type: "peer.join.success",
      timestamp: "2026-11-24T10:00:00Z",
      data: { room_id: room, peer_id: "p1", user_id: patientUserId, role: "patient", joined_at: "0000-01-01T00:00:00Z" },
    });
  });

  it("connectedMsOverflow: both sides in the room for 59 days (by webhook times) is applied", async () => {
    const { room, doctorUserId, patientUserId } = await newRoom();
    const event = (type: string, timestamp: string, data: Record<string, unknown>) => ({ id: randomUUID(), type, timestamp, data: { room_id: room, ...data } });
    expect(await api.webhook(event("peer.join.success", "2026-01-01T00:00:00Z", { peer_id: "d1", user_id: doctorUserId, role: "doctor", joined_at: "2026-01-01T00:00:00Z" }))).toBe(200);
    expect(await api.webhook(event("peer.join.success", "2026-01-01T00:00:00Z", { peer_id: "p1", user_id: patientUserId, role: "patient", joined_at: "2026-01-01T00:00:00Z" }))).toBe(200);
    // connected_ms is an int4: 59 days = 5.1e9 ms.
    await expectProcessed(event("peer.leave.success", "2026-03-01T00:00:00Z", { peer_id: "d1", user_id: doctorUserId, role: "doctor", left_at: "2026-03-01T00:00:00Z" }));
  });

  it("deepNesting: data nested 5000 arrays deep (10 KB body) is a 400, not a 503", async () => {
    await expectAcknowledged(minimal({ data: "@" }).replace('"@"', `{"x":${"[".repeat(5000)}${"]".repeat(5000)}}`));
  });
});
