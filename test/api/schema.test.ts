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

describe("compatibility with released schemas (schema/releases/)", () => {
  const releases = readdirSync(new URL("schema/releases/", root)).filter((f) => f.endsWith(".graphql"));

  it("has at least one release to compare against", () => {
    expect(releases.length).toBeGreaterThan(0);
  });

  it.each(releases)("breaks nothing in %s", (file) => {
    const released = buildSchema(readFileSync(new URL(`schema/releases/${file}`, root), "utf8"));
    expect(findBreakingChanges(released, schema).map((c) => c.description)).toEqual([]);
  });
});

describe("codegen", () => {
  it("is up to date with the schema and test/operations (run `npm run codegen` when this fails)", async () => {
    const bin = new URL("node_modules/.bin/graphql-codegen", root).pathname;
    const run = promisify(execFile)(bin, ["--config", "codegen.yml", "--check"], { cwd: root.pathname });
    await expect(run).resolves.toBeDefined();
  }, 60_000);
});
