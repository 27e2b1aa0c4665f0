/**
 * Schema discipline: the committed SDL is what the resolvers build, it contains the whole
 * public contract (bar the parts still listed as pending), and the codegen'd typed documents
 * the tests use are up to date.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import {
  buildSchema,
  DangerousChangeType,
  findBreakingChanges,
  findDangerousChanges,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isSpecifiedScalarType,
  type GraphQLSchema,
} from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApiSchema, printApiSchema } from "../../src/app/schema.js";
import { PENDING_CONTRACT_PARTS } from "../fixtures/contract-pending.js";

const root = new URL("../../", import.meta.url);
const contract = buildSchema(readFileSync(new URL("test/fixtures/contract.graphql", root), "utf8"));
let schema: GraphQLSchema;

beforeAll(async () => {
  schema = await buildApiSchema();
});

const isPending = (description: string) =>
  PENDING_CONTRACT_PARTS.some((part) => description.startsWith(`${part} was removed`));

describe("schema/schema.graphql", () => {
  it("is what the resolvers build (run `npm run schema:emit` when this fails)", () => {
    expect(readFileSync(new URL("schema/schema.graphql", root), "utf8")).toBe(printApiSchema(schema));
  });

  it("breaks nothing in the public contract", () => {
    const breaking = findBreakingChanges(contract, schema).map((c) => c.description);
    expect(breaking.filter((d) => !isPending(d))).toEqual([]);
  });

  it("keeps the contract's argument defaults", () => {
    const changed = findDangerousChanges(contract, schema).filter(
      (c) => c.type === DangerousChangeType.ARG_DEFAULT_VALUE_CHANGE,
    );
    expect(changed.map((c) => c.description)).toEqual([]);
  });

  it("lists as pending only what is really still missing", () => {
    const breaking = findBreakingChanges(contract, schema).map((c) => c.description);
    const stillMissing = PENDING_CONTRACT_PARTS.filter((part) => breaking.some((d) => d.startsWith(`${part} was removed`)));
    expect(stillMissing).toEqual(PENDING_CONTRACT_PARTS);
  });
});

const releases = () => readdirSync(new URL("schema/releases/", root)).filter((f) => f.endsWith(".graphql"));
const released = (file: string) => buildSchema(readFileSync(new URL(`schema/releases/${file}`, root), "utf8"));

describe("compatibility with released schemas (schema/releases/)", () => {

  it("has at least one release to compare against", () => {
    expect(releases().length).toBeGreaterThan(0);
  });

  it.each(releases())("breaks nothing in %s", (file) => {
    expect(findBreakingChanges(released(file), schema).map((c) => c.description)).toEqual([]);
  });
});

/** Every type, field, argument and enum value of a schema, by coordinate, with its description. */
function described(of: GraphQLSchema): Map<string, string | null | undefined> {
  const members = new Map<string, string | null | undefined>();
  for (const type of Object.values(of.getTypeMap())) {
    if (type.name.startsWith("__") || isSpecifiedScalarType(type)) continue;
    members.set(type.name, type.description);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        members.set(`${type.name}.${field.name}`, field.description);
        for (const arg of "args" in field ? field.args : []) members.set(`${type.name}.${field.name}(${arg.name}:)`, arg.description);
      }
    }
    if (isEnumType(type)) for (const value of type.getValues()) members.set(`${type.name}.${value.name}`, value.description);
  }
  return members;
}

describe("descriptions", () => {
  it("are given for everything added since the contract and the released schemas", () => {
    const known = new Set([contract, ...releases().map(released)].flatMap((s) => [...described(s).keys()]));
    const undescribed = [...described(schema)].filter(([coordinate, description]) => !known.has(coordinate) && !description?.trim()).map(([c]) => c);
    expect(undescribed).toEqual([]);
  });
});

describe("codegen", () => {
  it("is up to date with the schema and test/operations (run `npm run codegen` when this fails)", async () => {
    const bin = new URL("node_modules/.bin/graphql-codegen", root).pathname;
    const run = promisify(execFile)(bin, ["--config", "codegen.yml", "--check"], { cwd: root.pathname });
    await expect(run).resolves.toBeDefined();
  }, 60_000);
});
