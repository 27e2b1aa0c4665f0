/**
 * Random DAGs of fragment spreads (random fan-out, depth and sizes, on Query and on
 * Consultation): checking a document costs what it weighs, however many paths its spreads
 * make. The cost walk visits no more selections than the document has; armor's depth and
 * alias rules look each fragment up once; graphql's validation plus ours stays within a time
 * linear in the document's size; and the API process answers /healthz within 200 ms behind
 * any generated document.
 *
 * FC_RUNS=n changes the number of runs, FC_SEED=n replays a seed.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { buildSchema, Kind, parse, specifiedRules, validate, visit, type DocumentNode, type ValidationContext, type ValidationRule } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkOperation, DEFAULT_LIMITS, limitRules } from "../../src/transport/limits.js";
import { measureCost } from "../../src/transport/query-cost.js";
import { ensureStopped, realApiEnv, skipReason, startRealApi, type RealApi } from "../faults/real-api.js";
import { firstPassing, postGraphql, whileHealthzPolled } from "../support/abuse.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

const schema = buildSchema(readFileSync(new URL("../../schema/schema.graphql", import.meta.url), "utf8"));
const runs = Number(process.env.FC_RUNS ?? 60);
const seed = process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {};

type On = "Query" | "Consultation";
interface Item {
  kind: "spread" | "leaf" | "list";
  /** Spreads and lists: how far ahead the target fragment is (targets are always later: no cycles). */
  ahead: number;
}
interface Fragment {
  on: On;
  items: Item[];
}

const item = fc.record({ kind: fc.constantFrom("spread", "spread", "spread", "leaf", "list"), ahead: fc.nat(3) }) as fc.Arbitrary<Item>;
const fragment = fc.record({ on: fc.constantFrom<On>("Query", "Consultation"), items: fc.array(item, { minLength: 1, maxLength: 5 }) });
/**
 * One `first` per document: the same field with different arguments in one selection would
 * not merge. In-process DAGs stay small (up to 12 fragments), so that a regression to a walk
 * per path cannot hang the test runner; the API process, whose requests have deadlines, gets
 * up to 40 (millions of paths).
 */
const dag = (maxFragments: number) =>
  fc.record({
    first: fc.integer({ min: 1, max: 100 }),
    fragments: fc.array(fragment, { minLength: 2, maxLength: maxFragments, size: "max" }),
  });

/** The next fragment on `on` at least `ahead`+1 places after `i`, if any. */
function target(fragments: Fragment[], i: number, on: On, ahead: number): number | null {
  for (let j = i + 1 + ahead; j < fragments.length; j++) if (fragments[j]!.on === on) return j;
  return null;
}

function documentOf({ first, fragments }: { first: number; fragments: Fragment[] }): string {
  const spreadAt = (i: number, on: On, ahead: number) => {
    const j = target(fragments, i, on, ahead);
    return j === null ? (on === "Query" ? "__typename" : "id") : `...F${j}`;
  };
  const used = new Set<number>();
  const bodies = fragments.map((f, i) => {
    const parts = f.items.map(({ kind, ahead }) => {
      if (kind === "leaf") return f.on === "Query" ? "me { id }" : "status";
      const inner = kind === "spread" ? f.on : "Consultation";
      const spread = spreadAt(i, inner, ahead);
      if (spread.startsWith("...")) used.add(Number(spread.slice(4)));
      if (kind === "spread") return spread;
      return f.on === "Query"
        ? `consultations(first: ${first}) { edges { node { ${spread} } } }`
        : `events(first: ${first}) { edges { node { consultation { ${spread} } } } }`;
    });
    return `fragment F${i} on ${f.on} { ${parts.join(" ")} }`;
  });
  // Every fragment nobody spreads hangs off the operation, so that all of them are used.
  const sources = fragments.map((f, i) => ({ f, i })).filter(({ i }) => !used.has(i));
  const onQuery = sources.filter(({ f }) => f.on === "Query").map(({ i }) => `...F${i}`);
  const onConsultation = sources.filter(({ f }) => f.on === "Consultation").map(({ i }) => `...F${i}`);
  const consultations = onConsultation.length > 0 ? ` consultations(first: ${first}) { edges { node { ${onConsultation.join(" ")} } } }` : "";
  return `query Q { __typename ${onQuery.join(" ")}${consultations} } ${bodies.join(" ")}`;
}

function selectionsIn(document: DocumentNode): number {
  let count = 0;
  const counted = () => void count++;
  visit(document, { Field: counted, InlineFragment: counted, FragmentSpread: counted });
  return count;
}

/** Our limit rules with each rule's `getFragment` look-ups counted. */
function countedLimitRules(counter: { lookups: number }): ValidationRule[] {
  return limitRules(DEFAULT_LIMITS, false).map((rule) => (context: ValidationContext) => {
    const counting = new Proxy(context, {
      get: (target, key) => {
        if (key === "getFragment") counter.lookups++;
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    return rule(counting);
  });
}

describe("checking a random DAG of fragment spreads", () => {
  it("walks each fragment once and takes time linear in the document", () => {
    fc.assert(
      fc.property(dag(12), (generated) => {
        const text = documentOf(generated);
        const document = parse(text, { noLocation: true });
        const counter = { lookups: 0 };
        const best = Math.min(
          ...[0, 1, 2].map(() => {
            const started = performance.now();
            expect(validate(schema, document, [...specifiedRules, ...countedLimitRules(counter)]).filter((e) => !/too (deep|many)/i.test(e.message))).toEqual([]);
            checkOperation(schema, document, "Q", {}, DEFAULT_LIMITS, false);
            return performance.now() - started;
          }),
        );
        // Two rules, three repeats: each fragment is looked up at most once per rule and repeat.
        expect(counter.lookups).toBeLessThanOrEqual(2 * 3 * generated.fragments.length);
        const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
        const { visited } = measureCost(schema, document, operation, {}, { defaultListSize: 10, maxPageSize: 100, maxNodes: Infinity });
        expect(visited).toBeLessThanOrEqual(selectionsIn(document));
        expect(best, `${text.length} bytes`).toBeLessThan(20 + 0.02 * text.length);
      }),
      { numRuns: runs * 3, ...seed },
    );
  });
});

let test: TestDatabase;
let api: RealApi | undefined;

describe.skipIf(skipReason !== null)(`The API process behind random fragment DAGs${skipReason ? ` (${skipReason})` : ""}`, () => {
  beforeAll(async () => {
    test = await createTestDatabase({ driver: "postgres" });
    api = await startRealApi(realApiEnv(test.url!, { RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000", RECONCILE_INTERVAL_SECONDS: "0" }));
  }, 60_000);

  afterAll(async () => {
    await ensureStopped(api);
    await test?.close();
  });

  it("answers /healthz within 200 ms while checking any of them", async () => {
    const url = api!.url;
    await fc.assert(
      fc.asyncProperty(dag(40), async (generated) => {
        const query = documentOf(generated);
        const run = await firstPassing(
          3,
          () => whileHealthzPolled(url, () => postGraphql(url, { query }, {})),
          (r) => r.slowestHealthzMs < 200,
        );
        expect(run.result.status).toBeLessThan(500);
        expect(run.slowestHealthzMs, query).toBeLessThan(200);
      }),
      // No shrinking: against a stalled process every further run would only wait out its deadline.
      { numRuns: runs, endOnFailure: true, ...seed },
    );
  }, 120_000);
});
