/**
 * Property-based fuzzing of POST /graphql over real HTTP on loopback, with NODE_ENV=test and
 * NODE_ENV=production: random documents built from the real schema (schema/schema.graphql)
 * mixing real and unknown fields, right and wrong argument types, variables of every type
 * (wrong types, huge and SQL-looking strings, non-UUID ids, forged cursors, negative and
 * huge `first`, odd unicode), deep selections, syntax garbage and malformed request bodies,
 * sent mostly with a doctor's token (sometimes an admin's, a patient's, none or a bad one).
 *
 * Properties, for every request: the status is < 500; the body is JSON with `data` or
 * `errors`; every error has an `extensions.code` from the contract's list (never
 * INTERNAL_SERVER_ERROR: these are bad inputs, not server faults); no `stacktrace` anywhere;
 * nothing in the response that the request did not contain looks like a leak (SQL, driver
 * or stack text); in production, no "Did you mean" suggestions.
 *
 * KNOWN_BUGS lists the server bugs this fuzzing found (INTERNAL_SERVER_ERROR for bad input).
 * Each has a minimal `it.fails` test below; the fuzz property tolerates INTERNAL_SERVER_ERROR
 * only for requests a known bug applies to (everything else still holds for them). When a
 * bug is fixed its `it.fails` test fails: turn it into `it` and delete its KNOWN_BUGS entry.
 *
 * FUZZ_RUNS=n overrides the number of runs per NODE_ENV, FC_SEED=n replays a seed that
 * fast-check printed, FUZZ_VERBOSE=1 prints statuses, codes and tolerated known bugs.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import {
  buildSchema,
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  parse,
  visit,
  type DocumentNode,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLInterfaceType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAccessToken } from "../../src/auth/access-token.js";
import { startTestApi, TEST_JWT_SECRET, type TestApi } from "../support/api.js";
import { createCareTeam, createConsultation, createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

const schema = buildSchema(readFileSync(new URL("../../schema/schema.graphql", import.meta.url), "utf8"));

let test: TestDatabase;
/** Thousands on PostgreSQL; fewer on the embedded PGlite. Per NODE_ENV. */
const runs = () => Number(process.env.FUZZ_RUNS ?? (test.kind === "postgres" ? 2000 : 1000));
const seed = process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {};

/** Ids and tokens of the fixture clinic, filled in beforeAll (generators read them lazily). */
const fixture = {
  ids: [] as string[],
  tokens: {} as Record<"doctor" | "admin" | "patient", string>,
  visibleConsultation: "",
  activeConsultation: "",
};

beforeAll(async () => {
  test = await createTestDatabase();
  const db = test.database.db;
  const mine = await createCareTeam(db);
  const theirs = await createCareTeam(db);
  const active = await createConsultation(db, { doctorId: mine.doctor.doctor.id, patientId: mine.patient.patient.id, status: "active" });
  const completed = await createConsultation(db, { doctorId: mine.doctor.doctor.id, patientId: mine.patient.patient.id, status: "completed" });
  const admin = await createUser(db, "admin");
  // Valid for the whole file, however long shrinking takes.
  const token = (userId: string) => signAccessToken(TEST_JWT_SECRET, userId, { ttlSeconds: 3600 });
  fixture.tokens = { doctor: await token(mine.doctor.user.id), admin: await token(admin.id), patient: await token(mine.patient.user.id) };
  fixture.visibleConsultation = mine.consultation.id;
  fixture.activeConsultation = active.consultation.id;
  fixture.ids = [
    mine.consultation.id,
    active.consultation.id,
    completed.consultation.id,
    theirs.consultation.id,
    mine.appointment.id,
    active.appointment.id,
    theirs.appointment.id,
    mine.doctor.user.id,
    mine.patient.user.id,
    admin.id,
    mine.consultation.id.toUpperCase(),
  ];
});

afterAll(async () => {
  await test?.close();
});

const ALLOWED_CODES = new Set([
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "BAD_USER_INPUT",
  "INVALID_STATE",
  "UPSTREAM_UNAVAILABLE",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "RATE_LIMITED",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
]);

// ---------------------------------------------------------------------------------------
// Known bugs: predicates on the request. INTERNAL_SERVER_ERROR is tolerated only when one applies.

interface Sent {
  body: string;
  /** The parsed JSON body when it was an object. */
  json: Record<string, unknown> | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function* stringsIn(value: unknown): Generator<string> {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") yield v;
    else if (Array.isArray(v)) stack.push(...v);
    else if (isObject(v)) for (const [k, inner] of Object.entries(v)) stack.push(k, inner);
  }
}

function parsedDocument(sent: Sent): DocumentNode | null {
  const query = sent.json?.query;
  if (typeof query !== "string") return null;
  try {
    return parse(query, { noLocation: true });
  } catch {
    return null;
  }
}

/** Every string the server could see: variables, and string literals of the document. */
function requestStrings(sent: Sent): string[] {
  const strings = [...stringsIn(sent.json?.variables)];
  const document = parsedDocument(sent);
  if (document) {
    visit(document, {
      StringValue(node) {
        strings.push(node.value);
      },
    });
  }
  return strings;
}

const outOfPgRange = (text: string) => {
  const ms = Date.parse(text);
  const year = new Date(ms).getUTCFullYear();
  return !Number.isNaN(ms) && (year < 1 || year > 9999);
};

const KNOWN_BUGS: Record<string, (sent: Sent) => boolean> = {};

// ---------------------------------------------------------------------------------------
// Value generators.

const cursor = (text: string) => Buffer.from(text, "utf8").toString("base64url");
const anyDate = fc.date({ noInvalidDate: true });
const dateStrings = fc.oneof(
  { weight: 4, arbitrary: fc.date({ min: new Date("1990-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString()) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00",
      "2026-02-30T00:00:00Z", "2026-11-24", "2026-11-24T10:00:00", "2026-11-24T25:00:00Z", "+275760-09-13T00:00:00.000Z", "yesterday", "",
      "2026-11-24T10:00:00.123456789Z", "2026-11-24t10:00:00z", "1", "1e10",
    ),
  },
  { weight: 1, arbitrary: anyDate.map((d) => d.toISOString()) },
);
/** Microsecond times as today's cursors carry them, real and forged. */
const exactDates = fc.oneof(
  dateStrings,
  anyDate.map((d) => d.toISOString().replace("Z", "123Z")),
  fc.constantFrom("0000-01-01T00:00:00.000000Z", "0001-01-01T00:00:00.000000Z", "2026-02-30T00:00:00.000000Z", "2026-11-24T24:00:00.000000Z", "9999-12-31T23:59:59.999999Z", "2026-11-24T10:00:00.1234567Z"),
);
const forgedCursors = fc.oneof(
  fc.tuple(exactDates, fc.oneof(fc.uuid(), fc.string({ maxLength: 10 }))).map(([d, id]) => cursor(`c2:${d}|${id}`)),
  fc.tuple(exactDates, fc.oneof(fc.integer().map(String), fc.constantFrom("9007199254740993", "1e3", "-1", "", "x"))).map(([d, n]) => cursor(`au3:${d}|${n}`)),
  fc.tuple(fc.oneof(dateStrings, anyDate.map((d) => d.toISOString())), fc.oneof(fc.uuid(), fc.string({ maxLength: 10 }))).map(([d, id]) => cursor(`c1:${d}|${id}`)),
  fc.tuple(fc.oneof(dateStrings, anyDate.map((d) => d.toISOString())), fc.oneof(fc.integer().map(String), fc.constantFrom("9007199254740993", "1e3", "-1", "", "x"))).map(([d, n]) => cursor(`au2:${d}|${n}`)),
  fc.oneof(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String), fc.constantFrom("1e3", "-0", "0x10", "", "Infinity", "1.5")).map((n) => cursor(`ev1:${n}`)),
  fc.string({ maxLength: 40 }).map(cursor),
  fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/="), maxLength: 60 }),
);
const ODD = ["\u0000", "\ud800", "\udfff", "\u202e", "\u200f", "\u200b", "\ufeff", "\u2028", "😀", "👩‍⚕️", "é", "中", "ا", "\"", "\\", "\n", "'", "%", "_", "a"];
const nasty = fc.oneof(
  fc.constantFrom(
    "' OR 1=1 --", "1 OR 1=1", "'; DROP TABLE users; --", "\" OR \"\"=\"", "select \"id\" from \"users\"", "' UNION SELECT password FROM users --",
    "%", "_", "\\", "$1", "${7*7}", "{{7*7}}", "<script>alert(1)</script>", "../../etc/passwd", "null", "NaN", "-1", "1e400", "true", "   ", "",
    "00000000-0000-0000-0000-000000000000", "00000000-0000-4000-8000-00000000000g", "{}", "[]",
  ),
  fc.constantFrom(100, 101, 128, 129, 200, 201, 500, 501, 1000, 1001, 2000, 2001, 4000, 4001, 20_000).map((n) => "x".repeat(n)),
  fc.array(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...ODD.slice(2)) }, { weight: 1, arbitrary: fc.constantFrom(...ODD) }), { maxLength: 20 }).map((a) => a.join("")),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
);
const idStrings = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(() => fixture.activeConsultation, () => fixture.visibleConsultation) },
  { weight: 4, arbitrary: fc.nat(50).map((i) => () => fixture.ids[i % fixture.ids.length]!) },
  { weight: 2, arbitrary: fc.uuid().map((u) => () => u) },
  { weight: 3, arbitrary: nasty.map((s) => () => s) },
).map((f) => f());

/**
 * Documents come in two modes. "strict" ones are valid against the schema (real fields,
 * required arguments given, right variable types) so the garbage is in the *values* and
 * reaches the resolvers; "wild" ones also use unknown fields and arguments, wrong literal
 * kinds, wrong variable types, missing selections and stray fragments.
 */
type Mode = "strict" | "wild";

/** A JSON value for a variable of this input type. */
function jsonFor(type: GraphQLInputType, mode: Mode, depth = 0): fc.Arbitrary<unknown> {
  const nullable = !isNonNullType(type);
  const inner = isNonNullType(type) ? type.ofType : type;
  let value: fc.Arbitrary<unknown>;
  if (isListType(inner)) {
    const item = jsonFor(inner.ofType, mode, depth + 1);
    const list = fc.array(item, { maxLength: depth > 1 ? 2 : 22 });
    value = mode === "strict" ? list : fc.oneof({ weight: 6, arbitrary: list }, { weight: 1, arbitrary: item });
  } else {
    const plausible = plausibleJson(inner, mode, depth);
    value = mode === "strict" ? plausible : fc.oneof({ weight: 8, arbitrary: plausible }, { weight: 2, arbitrary: garbageJson });
  }
  // Null where the type allows it (strict), or anywhere (wild).
  return nullable || mode === "wild" ? fc.oneof({ weight: 12, arbitrary: value }, { weight: 1, arbitrary: fc.constant(null) }) : value;
}

function plausibleJson(type: GraphQLNamedType, mode: Mode, depth: number): fc.Arbitrary<unknown> {
  if (isEnumType(type)) {
    const values = fc.constantFrom(...type.getValues().map((v) => v.name));
    return mode === "strict" ? values : fc.oneof(values, fc.constantFrom("pending", "Active", "UNKNOWN", "", "PENDING "));
  }
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields());
    const required = fields.filter((f) => isNonNullType(f.type)).map((f) => f.name);
    return fc
      .tuple(
        fc.record(Object.fromEntries(fields.map((f) => [f.name, jsonFor(f.type, mode, depth + 1)])), { requiredKeys: mode === "strict" ? required : [] }),
        mode === "strict" ? fc.constant(null) : fc.option(fc.tuple(fc.constantFrom("unknownField", "__proto__", "constructor", "consultation_id"), garbageJson)),
      )
      .map(([record, extra]) => (extra ? { ...record, [extra[0]]: extra[1] } : record));
  }
  switch (type.name) {
    case "Int":
      return fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: -5, max: 120 }) },
        { weight: 2, arbitrary: fc.constantFrom(0, -1, 20, 21, 50, 100, 101, 365, 366, 2 ** 31 - 1, -(2 ** 31)) },
        { weight: mode === "strict" ? 0 : 2, arbitrary: fc.oneof(fc.integer(), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, 1e300, 1.5, -0)) },
      );
    case "Boolean":
      return mode === "strict" ? fc.boolean() : fc.oneof(fc.boolean(), fc.constantFrom("true", 1, 0));
    case "ID":
      return mode === "strict" ? idStrings : fc.oneof({ weight: 6, arbitrary: idStrings }, { weight: 1, arbitrary: fc.integer() });
    case "DateTime":
      return mode === "strict" ? dateStrings : fc.oneof({ weight: 6, arbitrary: dateStrings }, { weight: 1, arbitrary: fc.oneof(fc.integer(), anyDate.map((d) => d.getTime())) });
    default: // String, and any other scalar
      return fc.oneof({ weight: 6, arbitrary: nasty }, { weight: 2, arbitrary: forgedCursors }, { weight: 1, arbitrary: idStrings });
  }
}

const garbageJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  nasty,
  fc.constantFrom(null, true, [], {}, [null], 1e308, -1, { id: "x" }),
);

/** GraphQL literal text for this input type. */
function literalFor(type: GraphQLInputType, mode: Mode, depth = 0): fc.Arbitrary<string> {
  if (isNonNullType(type)) {
    return mode === "strict" ? literalFor(type.ofType, mode, depth) : fc.oneof({ weight: 12, arbitrary: literalFor(type.ofType, mode, depth) }, { weight: 1, arbitrary: fc.constant("null") });
  }
  if (isListType(type)) {
    const item = literalFor(type.ofType, mode, depth + 1);
    return fc.oneof({ weight: 4, arbitrary: fc.array(item, { maxLength: depth > 1 ? 2 : 5 }).map((items) => `[${items.join(", ")}]`) }, { weight: 1, arbitrary: item });
  }
  const named = type;
  if (isEnumType(named)) {
    const values = fc.constantFrom(...named.getValues().map((v) => v.name));
    return mode === "strict" ? values : fc.oneof({ weight: 8, arbitrary: values }, { weight: 1, arbitrary: fc.constantFrom("pending", "UNKNOWN", "true", "null_", '"PENDING"', "1") });
  }
  if (isInputObjectType(named)) {
    const fields = Object.values(named.getFields());
    const required = fields.filter((f) => isNonNullType(f.type)).map((f) => f.name);
    return fc
      .tuple(
        fc.record(Object.fromEntries(fields.map((f) => [f.name, literalFor(f.type, mode, depth + 1)])), { requiredKeys: mode === "strict" ? required : [] }),
        mode === "strict" ? fc.constant(null) : fc.option(fc.tuple(fc.constantFrom("unknownField", "status", "id"), wrongLiteral)),
      )
      .map(([record, extra]) => `{${[...Object.entries(record), ...(extra ? [extra] : [])].map(([k, v]) => `${k}: ${v}`).join(", ")}}`);
  }
  const plausible = plausibleJson(named, mode, depth).map(toLiteral);
  return mode === "strict" ? plausible : fc.oneof({ weight: 8, arbitrary: plausible }, { weight: 1, arbitrary: wrongLiteral });
}

/** JSON to GraphQL literal. */
function toLiteral(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "1e999";
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(toLiteral).join(", ")}]`;
  return `{${Object.entries(value as object).filter(([k]) => /^[_A-Za-z][_0-9A-Za-z]*$/.test(k)).map(([k, v]) => `${k}: ${toLiteral(v)}`).join(", ")}}`;
}

const wrongLiteral: fc.Arbitrary<string> = fc.oneof(
  fc.integer().map(String),
  fc.constantFrom("99999999999999999999", "-2147483649", "1.5", "-0", "1e999", "0x10", "true", "null", "PENDING", "pending", "ACTIVE", "[]", "{}", "[[[]]]", '"""block"""', "$undeclared", '""'),
  nasty.map((s) => JSON.stringify(s)),
);

// ---------------------------------------------------------------------------------------
// Documents. Pieces render against a Vars registry that collects variable definitions.

class Vars {
  readonly defs: string[] = [];
  readonly values: Record<string, unknown> = {};
  add(typeText: string, value: unknown, declared: boolean): string {
    const name = `v${this.defs.length}`;
    if (declared) this.defs.push(`$${name}: ${typeText}`);
    else this.defs.push(""); // referenced but not declared: a validation error
    if (value !== undefined) this.values[name] = value;
    return name;
  }
}
type Piece = (vars: Vars) => string;

const TYPE_TEXTS = ["String", "String!", "Int", "Int!", "ID", "ID!", "[ID!]!", "Boolean", "DateTime", "ConsultationFilter", "AuditEventFilter", "CreatePrescriptionInput!", "[ConsultationStatus!]", "Foo", "Consultation", "[[String]]"];

function argPiece(argName: string, type: GraphQLInputType, mode: Mode): fc.Arbitrary<Piece> {
  const variable =
    mode === "strict"
      ? jsonFor(type, mode).map((value): Piece => (vars) => `${argName}: $${vars.add(String(type), value, true)}`)
      : fc
          .record({
            typeText: fc.oneof({ weight: 6, arbitrary: fc.constant(String(type)) }, { weight: 1, arbitrary: fc.constantFrom(...TYPE_TEXTS) }),
            value: fc.oneof({ weight: 8, arbitrary: jsonFor(type, mode) }, { weight: 1, arbitrary: fc.constant(undefined) }),
            declared: fc.oneof({ weight: 20, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
          })
          .map(({ typeText, value, declared }): Piece => (vars) => `${argName}: $${vars.add(typeText, value, declared)}`);
  return fc.oneof({ weight: 4, arbitrary: literalFor(type, mode).map((lit): Piece => () => `${argName}: ${lit}`) }, { weight: 5, arbitrary: variable });
}

type Composite = GraphQLObjectType | GraphQLInterfaceType;
const memo = new Map<string, fc.Arbitrary<Piece>>();
const NAMES = fc.constantFrom("foo", "password", "email", "id", "__schema", "Consultation", "consultatoins", "me_", "_", "userId", "doctor_token", "token");

function fieldPiece(field: GraphQLField<unknown, unknown>, depth: number, mode: Mode): fc.Arbitrary<Piece> {
  const named = getNamedType(field.type);
  const leafSet = fc.constant<Piece>(() => "{ __typename }");
  const sub: fc.Arbitrary<Piece | null> = isCompositeType(named)
    ? depth > 0
      ? mode === "strict"
        ? selectionSet(named as Composite, depth - 1, mode)
        : fc.oneof({ weight: 12, arbitrary: selectionSet(named as Composite, depth - 1, mode) }, { weight: 1, arbitrary: fc.constant(null) })
      : mode === "strict"
        ? leafSet
        : fc.oneof(leafSet, fc.constant(null)) // a composite field without a selection: a validation error
    : mode === "strict"
      ? fc.constant(null)
      : fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant<Piece>(() => "{ id }") });
  const args = field.args.map((a) => {
    const piece = argPiece(a.name, a.type, mode);
    return mode === "strict" && isNonNullType(a.type) ? piece : fc.option(piece, { freq: 3 });
  });
  return fc
    .record({
      alias: fc.option(fc.constantFrom("a", "b", "x1", "id", "me"), { freq: 6 }),
      args: fc.tuple(...args),
      unknownArg: mode === "strict" ? fc.constant(null) : fc.option(fc.tuple(NAMES, wrongLiteral), { freq: 12 }),
      sub,
    })
    .map(({ alias, args: given, unknownArg, sub: child }): Piece => (vars) => {
      const rendered = given.filter((p): p is Piece => p !== null).map((p) => p(vars));
      if (unknownArg) rendered.push(`${unknownArg[0]}: ${unknownArg[1]}`);
      // Aliases only in wild mode: the same field twice with different arguments would not merge.
      const name = mode === "wild" && alias ? `${alias}: ` : "";
      return `${name}${field.name}${rendered.length ? `(${rendered.join(", ")})` : ""}${child ? ` ${child(vars)}` : ""}`;
    });
}

function selectionSet(type: Composite, depth: number, mode: Mode): fc.Arbitrary<Piece> {
  const key = `${type.name}:${depth}:${mode}`;
  const known = memo.get(key);
  if (known) return known;
  const fields = Object.values(type.getFields());
  const composites = Object.values(schema.getTypeMap()).filter((t) => (isObjectType(t) || isInterfaceType(t)) && !t.name.startsWith("__")) as Composite[];
  const realField = fc.oneof(...fields.map((f) => fieldPiece(f, depth, mode)));
  const selection =
    mode === "strict"
      ? fc.oneof({ weight: 12, arbitrary: realField }, { weight: 1, arbitrary: fc.constant<Piece>(() => "__typename") })
      : fc.oneof(
          { weight: 10, arbitrary: realField },
          { weight: 1, arbitrary: NAMES.map((n): Piece => () => n) },
          { weight: 1, arbitrary: fc.constant<Piece>(() => "__typename") },
          {
            weight: 1,
            arbitrary: fc
              .constantFrom(...composites)
              .chain((t) => (depth > 0 ? selectionSet(t, depth - 1, mode) : fc.constant<Piece>(() => "{ __typename }")).map((set): Piece => (vars) => `... on ${t.name} ${set(vars)}`)),
          },
          ...(type.name === "Query"
            ? [{ weight: 1, arbitrary: fc.constantFrom<Piece>(() => "__schema { types { name } }", () => '__type(name: "Consultation") { fields { name } }') }]
            : []),
        );
  // Strict: distinct fields (by name), so that no two need merging.
  const set = (
    mode === "strict"
      ? fc.uniqueArray(fc.tuple(fc.nat(), selection), { minLength: 1, maxLength: 3, selector: ([, p]) => p(new Vars()).split(/[\s({]/)[0] })
      : fc.array(fc.tuple(fc.nat(), selection), { minLength: 1, maxLength: 4 })
  ).map((pieces): Piece => (vars) => `{ ${pieces.map(([, p]) => p(vars)).join(" ")} }`);
  memo.set(key, set);
  return set;
}

const root = (operation: "query" | "mutation" | "subscription") =>
  (operation === "query" ? schema.getQueryType() : operation === "mutation" ? schema.getMutationType() : schema.getSubscriptionType())!;

/** A chain of real fields 5 to 40 deep (consultation.appointment.consultation…). */
const deepChain = fc.array(fc.nat(), { minLength: 5, maxLength: 40 }).map((choices): Piece => () => {
  let type: Composite = root("query");
  let open = "";
  let close = "";
  for (const choice of choices) {
    const fields: Array<GraphQLField<unknown, unknown>> = Object.values(type.getFields()).filter((f) => isCompositeType(getNamedType(f.type)));
    const field = fields[choice % fields.length];
    if (!field) break;
    const idArg = field.args.find((a) => a.name === "id" || a.name === "consultationId");
    open += `${field.name}${idArg ? `(${idArg.name}: "${fixture.visibleConsultation}")` : ""} { `;
    close += " }";
    const next: GraphQLNamedType = getNamedType(field.type);
    if (!isObjectType(next) && !isInterfaceType(next)) break;
    type = next;
  }
  return `{ ${open}__typename${close} }`;
});

interface Operation {
  text: string;
  variables: Record<string, unknown>;
  names: string[];
}

const operation = fc
  .record({
    mode: fc.oneof({ weight: 3, arbitrary: fc.constant<Mode>("strict") }, { weight: 2, arbitrary: fc.constant<Mode>("wild") }),
    kind: fc.oneof({ weight: 8, arbitrary: fc.constant("query" as const) }, { weight: 5, arbitrary: fc.constant("mutation" as const) }, { weight: 1, arbitrary: fc.constant("subscription" as const) }),
    shorthand: fc.boolean(),
    name: fc.option(fc.constantFrom("Q", "Op", "A"), { freq: 2 }),
    depth: fc.integer({ min: 0, max: 4 }),
    deep: fc.nat(12),
    fragment: fc.nat(20),
  })
  .chain(({ mode, kind: picked, shorthand, name, depth, deep, fragment }) => {
    const kind = deep === 0 ? "query" : picked; // deep chains start at Query
    return (deep === 0 ? deepChain : selectionSet(root(kind), depth, mode)).map((set): Operation => {
      const vars = new Vars();
      let selection = set(vars);
      let fragments = "";
      if (mode === "wild" && fragment === 0) {
        fragments = " fragment F on Consultation { id status ...F }"; // a cycle
        selection = selection.replace(/^\{ /, "{ consultations { edges { node { ...F } } } ");
      } else if (mode === "wild" && fragment === 1) {
        fragments = " fragment Unused on Doctor { id }";
      }
      const defs = vars.defs.filter(Boolean);
      const head = kind === "query" && shorthand && !name && defs.length === 0 ? "" : `${kind}${name ? ` ${name}` : ""}${defs.length ? `(${defs.join(", ")})` : ""} `;
      return { text: `${head}${selection}${fragments}`, variables: vars.values, names: name ? [name] : [] };
    });
  });

const garbageQuery = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.array(fc.constantFrom("{", "}", "(", ")", "$", "!", "...", "query", "mutation", "subscription", "fragment", "on", "@include", "@skip(if: true)", "#", '"', '"""', ":", "=", "[", "]", "me", "id", "consultations", "consultation", "edges", "node", "\u0000", "\ufeff", "😀", "1", "-"), { maxLength: 60 }).map((t) => t.join(" ")),
  fc.integer({ min: 200, max: 20_000 }).map((n) => `${"{ me ".repeat(n)}${"}".repeat(n)}`),
  fc.integer({ min: 200, max: 5_000 }).map((n) => `{ consultation(id: ${"[".repeat(n)}1${"]".repeat(n)}) { id } }`),
  fc.integer({ min: 100, max: 5_000 }).map((n) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(" ")} }`),
  fc.constantFrom("", " ", "query", "{", "{}", "{ }", "query {}", "{ me }", "{ me { id } ", "mutation { }", "subscription", "{ me { id } } { me { id } }", "query A { me { id } } query A { me { id } }", "# only a comment", "{ me { id } @include(if: true) }"),
);

/** Mutates a generated document: insert, delete or replace characters. */
const mutatedQuery = fc
  .tuple(operation, fc.array(fc.tuple(fc.nat(), fc.constantFrom("{", "}", "(", ")", "$", ":", '"', "\\", " ", "!", "@", "", "x")), { minLength: 1, maxLength: 3 }))
  .map(([op, edits]) => {
    let text = op.text;
    for (const [at, ch] of edits) {
      const i = at % (text.length + 1);
      text = text.slice(0, i) + ch + text.slice(i + (ch === "" || ch === "x" ? 1 : 0));
    }
    return { ...op, text };
  });

type Auth = "doctor" | "admin" | "patient" | "none" | "garbage";
interface RequestCase {
  auth: Auth;
  garbageAuth: string;
  body: () => string;
}

const bodyOf = (fields: Record<string, unknown>) => JSON.stringify(fields);
const requestBody = fc.oneof(
  // A generated operation in a well-formed body.
  {
    weight: 14,
    arbitrary: fc
      .record({
        op: operation,
        operationName: fc.oneof({ weight: 10, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom<unknown>("Q", "Nope", "", 5, null) }),
        variables: fc.oneof({ weight: 14, arbitrary: fc.constant("generated" as const) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, "x", '{"a":1}', [1], 5, {}) }),
        extensions: fc.oneof(
          { weight: 20, arbitrary: fc.constant<unknown>(undefined) },
          { weight: 1, arbitrary: fc.constantFrom<unknown>({ persistedQuery: { version: 1, sha256Hash: "abc" } }, { persistedQuery: { version: 2 } }, { persistedQuery: "x" }, "x", [], { foo: 1 }) },
        ),
      })
      .map(({ op, operationName, variables, extensions }) => () =>
        bodyOf({ query: op.text, variables: variables === "generated" ? op.variables : variables, operationName: operationName ?? op.names[0], extensions }),
      ),
  },
  { weight: 2, arbitrary: mutatedQuery.map((op) => () => bodyOf({ query: op.text, variables: op.variables })) },
  { weight: 2, arbitrary: garbageQuery.map((q) => () => bodyOf({ query: q })) },
  // Not a GraphQL request body at all.
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom<unknown>(1, "x", null, [], [{ query: "{ me { id } }" }], {}, { query: null }, { query: 5 }, { query: ["{ me { id } }"] }, { query: { kind: "Document" } }, { variables: {} }, { extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }).map((v) => () => JSON.stringify(v)),
      fc.constantFrom("", "{", "{not json", "{'query':'{ me { id } }'}", '{"query":"{ me { id } }"', "\ufeff{}", "\u0000").map((t) => () => t),
      fc.string({ maxLength: 100 }).map((t) => () => t),
      fc.integer({ min: 1_000, max: 60_000 }).map((n) => () => `{"query":"query($v: String) { me { id } }","variables":{"v":${"[".repeat(n)}${"]".repeat(n)}}}`),
      fc.integer({ min: 101_000, max: 300_000 }).map((n) => () => bodyOf({ query: "{ me { id } }", variables: { v: "x".repeat(n) } })),
    ),
  },
);

const requestCase: fc.Arbitrary<RequestCase> = fc.record({
  auth: fc.oneof(
    { weight: 12, arbitrary: fc.constant<Auth>("doctor") },
    { weight: 2, arbitrary: fc.constant<Auth>("admin") },
    { weight: 1, arbitrary: fc.constant<Auth>("patient") },
    { weight: 1, arbitrary: fc.constant<Auth>("none") },
    { weight: 1, arbitrary: fc.constant<Auth>("garbage") },
  ),
  garbageAuth: fc.constantFrom("Bearer ", "Bearer x.y.z", "Basic dXNlcjpwYXNz", "bearer ' OR 1=1 --", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "Token abc"),
  body: requestBody,
});

// ---------------------------------------------------------------------------------------
// The properties.

/** Server-side text that must never reach a client (unless the client sent it itself). */
const LEAKS: RegExp[] = [
  /Failed query/i,
  /postgres/i,
  /pglite/i,
  /select "/i,
  /insert into/i,
  /\bat [^\s()]+ \(?[^\s()]*:\d+:\d+\)?/, // stack frames
  /node_modules|file:\/\/|\/src\/|\.ts:\d+/,
  /violates|duplicate key|relation "|column "|syntax error at or near|invalid input syntax|out of range for type|date\/time field value/i,
  /TypeError|RangeError|ReferenceError|Cannot read properties/,
];

function containsKey(value: unknown, key: string): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) stack.push(...v);
    else if (isObject(v)) {
      if (Object.hasOwn(v, key)) return true;
      stack.push(...Object.values(v));
    }
  }
  return false;
}

function fuzzSuite(nodeEnv: "test" | "production") {
  describe(`POST /graphql under fuzzing (NODE_ENV=${nodeEnv})`, () => {
    let api: TestApi;
    const tolerated = new Map<string, number>();
    const codes = new Map<string, number>();
    const statuses = new Map<number, number>();

    beforeAll(async () => {
      // Generous rate limits, so that they do not hide everything behind RATE_LIMITED.
      api = await startTestApi(test, {
        NODE_ENV: nodeEnv,
        HOST: "127.0.0.1",
        RATE_LIMIT_MUTATIONS_PER_MINUTE: "100000",
        RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000",
        RATE_LIMIT_DENIALS_PER_MINUTE: "100000",
      });
    });

    afterAll(async () => {
      await api?.stop();
    });

    it("answers every request with < 500, JSON with data or errors, contract codes, no leaks", async () => {
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(requestCase, async (c) => {
          const body = c.body();
          let json: Record<string, unknown> | null = null;
          try {
            const parsed: unknown = JSON.parse(body);
            json = isObject(parsed) ? parsed : null;
          } catch {
            json = null;
          }
          const sent: Sent = { body, json };
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (c.auth === "garbage") headers.authorization = c.garbageAuth;
          else if (c.auth !== "none") headers.authorization = `Bearer ${fixture.tokens[c.auth]}`;

          const response = await fetch(`${api.url}/graphql`, { method: "POST", headers, body });
          const text = await response.text();
          const context = `${response.status} ${text.slice(0, 500)}\n<- ${c.auth} ${body.slice(0, 700)}`;
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);

          expect(response.status, context).toBeLessThan(500);
          let result: unknown;
          expect(() => (result = JSON.parse(text)), context).not.toThrow();
          expect(isObject(result) && ("data" in result || "errors" in result), context).toBe(true);
          const { errors } = result as { errors?: unknown };
          if (errors !== undefined) {
            expect(Array.isArray(errors) && errors.length > 0, context).toBe(true);
            const bugs = Object.entries(KNOWN_BUGS).filter(([, applies]) => applies(sent)).map(([name]) => name);
            for (const error of errors as Array<{ extensions?: { code?: unknown } }>) {
              const code = error?.extensions?.code;
              codes.set(String(code), (codes.get(String(code)) ?? 0) + 1);
              if (code === "INTERNAL_SERVER_ERROR" && bugs.length > 0) {
                for (const bug of bugs) tolerated.set(bug, (tolerated.get(bug) ?? 0) + 1);
                continue;
              }
              expect(typeof code === "string" && ALLOWED_CODES.has(code), `code ${String(code)}: ${context}`).toBe(true);
            }
          }
          expect(containsKey(result, "stacktrace"), context).toBe(false);
          for (const leak of LEAKS) {
            if (leak.test(text) && !leak.test(body)) expect.fail(`response matches ${leak}: ${context}`);
          }
          // Schema suggestions name fields or types (`Did you mean "consultation"?`); the lexer's
          // hint about quote characters reveals nothing about the schema.
          if (nodeEnv === "production") expect(text, context).not.toMatch(/Did you mean \\?"/);
        }),
        { numRuns: runs(), ...seed },
      );
      if (process.env.FUZZ_VERBOSE) {
        console.info(`graphql fuzz (${nodeEnv}): ${runs()} runs in ${Date.now() - started} ms on ${test.kind}`, {
          statuses: Object.fromEntries(statuses),
          codes: Object.fromEntries(codes),
          tolerated: Object.fromEntries(tolerated),
        });
      }
      // The generators reach resolvers, not only the parser and validation.
      expect(codes.get("BAD_USER_INPUT") ?? 0).toBeGreaterThan(0);
      expect(statuses.get(200) ?? 0).toBeGreaterThan(runs() / 10);
    }, 120_000);

    it("keeps answering afterwards", async () => {
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
      const { status, json } = await api.post({ query: "{ me { id role } }" }, { authorization: `Bearer ${fixture.tokens.doctor}` });
      expect(status).toBe(200);
      expect(json.data.me.role).toBe("DOCTOR");
    });
  });
}

fuzzSuite("test");
fuzzSuite("production");

/**
 * Minimal reproductions of KNOWN_BUGS: bad input answered with INTERNAL_SERVER_ERROR.
 * `it.fails` while the bug is there.
 */
describe("bugs this fuzzing found (minimal inputs, fixed)", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(test, { RATE_LIMIT_MUTATIONS_PER_MINUTE: "100000" });
  });
  afterAll(async () => {
    await api?.stop();
  });

  const codesOf = async (body: unknown, as: "doctor" | "admin" = "doctor") => {
    const { status, json } = await api.post(body, { authorization: `Bearer ${fixture.tokens[as]}` });
    return { status, codes: ((json.errors ?? []) as Array<{ extensions?: { code?: string } }>).map((e) => e.extensions?.code) };
  };
  const expectNoInternalError = async (body: unknown, as: "doctor" | "admin" = "doctor") => {
    const { status, codes } = await codesOf(body, as);
    expect(status).toBeLessThan(500);
    expect(codes).not.toContain("INTERNAL_SERVER_ERROR");
    expect(codes.length).toBeGreaterThan(0);
  };

  it("fixed: dateOutOfRange: consultations(filter: { from: \"0000-01-01T00:00:00Z\" })", async () => {
    await expectNoInternalError({ query: '{ consultations(filter: { from: "0000-01-01T00:00:00Z" }) { edges { cursor } } }' });
  });

  it("fixed: dateOutOfRange: consultations(after:) with a forged cursor c1:0000-01-01T00:00:00.000Z|<uuid>", async () => {
    const after = cursor("c1:0000-01-01T00:00:00.000Z|00000000-0000-4000-8000-000000000000");
    await expectNoInternalError({ query: `{ consultations(after: "${after}") { edges { cursor } } }` });
  });

  it("fixed: dateOutOfRange: auditEvents(filter: { to: \"9999-12-31T23:59:59-01:00\" }) as an admin", async () => {
    await expectNoInternalError({ query: '{ auditEvents(filter: { to: "9999-12-31T23:59:59-01:00" }) { edges { cursor } } }' }, "admin");
  });

  // Found by this fuzzing and fixed in src/ (7869f9c): now BAD_USER_INPUT.
  it("fixed: createPrescription with U+0000 in a medication name, on an ACTIVE consultation", async () => {
    await expectNoInternalError({
      query: "mutation($input: CreatePrescriptionInput!) { createPrescription(input: $input) { id } }",
      variables: { input: { consultationId: fixture.activeConsultation, medications: [{ name: "a\u0000", dosage: "1 mg", frequency: "daily" }] } },
    });
  });

  it("fixed: loneSurrogateInPrescription: createPrescription with a lone surrogate in a medication name, on an ACTIVE consultation", async () => {
    await expectNoInternalError({
      query: "mutation($input: CreatePrescriptionInput!) { createPrescription(input: $input) { id } }",
      variables: { input: { consultationId: fixture.activeConsultation, medications: [{ name: "a\ud800", dosage: "1 mg", frequency: "daily" }] } },
    });
  });

  it("fixed: cancelConsultation with U+0000 in the reason, on a PENDING consultation", async () => {
    const db = test.database.db;
    const team = await createCareTeam(db);
    const token = await api.tokenFor(team.doctor.user.id);
    const { json } = await api.post(
      { query: "mutation($id: ID!, $reason: String) { cancelConsultation(consultationId: $id, reason: $reason) { id } }", variables: { id: team.consultation.id, reason: "a\u0000" } },
      { authorization: `Bearer ${token}` },
    );
    expect(json.errors?.map((e: { extensions?: { code?: string } }) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });

  it("fixed: subscriptionOverHttp: subscription { myConsultationEvents { id } } POSTed to /graphql", async () => {
    await expectNoInternalError({ query: "subscription { myConsultationEvents { id } }" });
  });

  it("fixed: persistedQueryError: a persistedQuery extension whose sha256Hash does not match the query", async () => {
    await expectNoInternalError({ query: "{ me { id } }", extensions: { persistedQuery: { version: 1, sha256Hash: "abc" } } });
  });

  // Found with FC_SEED=-1805222584: Apollo hides schema hints in validation errors only.
  it("fixed: schemaHintInVariableError: an unknown input field in a variable, in production, names no schema field", async () => {
    const production = await startTestApi(test, { NODE_ENV: "production", HOST: "127.0.0.1" });
    try {
      const { status, json } = await production.post(
        { query: "mutation Q($v0: CreatePrescriptionInput!) { createPrescription(input: $v0) { __typename } }", variables: { v0: { medications: [{ instructionz: "" }] } } },
        { authorization: `Bearer ${fixture.tokens.doctor}` },
      );
      expect(status).toBe(400);
      const messages = (json.errors as Array<{ message: string; extensions: { code: string } }>).map((e) => [e.extensions.code, e.message] as const);
      expect(messages.some(([, m]) => m.includes('Field "instructionz" is not defined by type "MedicationInput".'))).toBe(true);
      for (const [code, message] of messages) {
        expect(code).toBe("BAD_USER_INPUT");
        expect(message).not.toMatch(/Did you mean/);
      }
    } finally {
      await production.stop();
    }
  });
});
