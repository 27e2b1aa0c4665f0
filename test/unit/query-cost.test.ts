/**
 * The cost limit reads `first` as execution will: literal, variable with its default, the
 * argument's default; anything it cannot resolve weighs MAX_PAGE_SIZE, never 1. The walk
 * stops at its node cap, so an already-parsed document cannot make it run unbounded.
 */
import { readFileSync } from "node:fs";
import { buildSchema, Kind, parse, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { checkOperation, DEFAULT_LIMITS } from "../../src/transport/limits.js";
import { measureCost } from "../../src/transport/query-cost.js";

const schema = buildSchema(readFileSync(new URL("../../schema/schema.graphql", import.meta.url), "utf8"));
const WEIGHTS = { defaultListSize: 10, maxPageSize: 100, maxNodes: 10_000 };

function costOf(query: string, variables: Record<string, unknown> | null = {}, weights = WEIGHTS) {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return measureCost(schema, document, operation, variables, weights);
}

/** consultations × (edges, node, id): 1 + first × 3. */
const page = (first: string) => `consultations(first: ${first}) { edges { node { id } } }`;

describe("the cost of a connection", () => {
  it("multiplies its selection by a literal `first`", () => {
    expect(costOf(`{ ${page("7")} }`).cost).toBe(1 + 7 * 3);
  });

  it("reads a variable's coerced value (checkOperation applies the variables' defaults)", () => {
    expect(costOf(`query ($f: Int = 100) { ${page("$f")} }`, { f: 7 }).cost).toBe(1 + 7 * 3);
  });

  it("reads the argument's default for no `first`, an unsent variable or null", () => {
    for (const query of [`{ consultations { edges { node { id } } } }`, `query ($f: Int) { ${page("$f")} }`, `{ ${page("null")} }`]) {
      expect(costOf(query).cost, query).toBe(1 + 20 * 3);
    }
  });

  it("weighs MAX_PAGE_SIZE for a `first` it cannot resolve", () => {
    expect(costOf(`query ($f: Int) { ${page("$f")} }`, null).cost).toBe(1 + 100 * 3); // variables failed coercion
    expect(costOf(`{ ${page("-5")} }`).cost).toBe(1 + 100 * 3);
  });
});

describe("checkOperation", () => {
  it("coerces variables before weighing: a default of 100 is refused like a literal 100", () => {
    const nested = (f: string) =>
      `consultations(first: ${f}) { edges { node { events(first: ${f}) { edges { node { consultation { participants { userId } } } } } } } }`;
    const literal = checkOperation(schema, parse(`{ ${nested("100")} }`), null, {}, DEFAULT_LIMITS, false);
    const defaulted = checkOperation(schema, parse(`query ($f: Int = 100) { ${nested("$f")} }`), null, {}, DEFAULT_LIMITS, false);
    expect(literal?.message).toMatch(/^Query is too complex/);
    expect(defaulted?.message).toBe(literal?.message);
  });
});

describe("the walk", () => {
  it("weighs each fragment once, however often it is spread", () => {
    let text = "query Q { ...F0 }";
    for (let i = 0; i < 30; i++) text += ` fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`;
    const { cost, visited } = costOf(`${text} fragment F30 on Query { __typename }`);
    expect(cost).toBe(2 ** 30);
    expect(visited).toBe(1 + 2 * 30 + 1);
  });

  it("stops at its node cap", () => {
    const query = `{ ${Array.from({ length: 50 }, () => "__typename").join(" ")} }`;
    expect(costOf(query, {}, { ...WEIGHTS, maxNodes: 20 })).toEqual({ cost: Infinity, visited: 21 });
    expect(costOf(query, {}, { ...WEIGHTS, maxNodes: 50 }).cost).toBe(50);
  });
});
