/**
 * Query limits, the same on every transport: depth and aliases as validation rules
 * (graphql-armor's), cost once variables are known (query-cost.ts), tokens by graphql's own
 * parser (`maxTokens`). Every check is linear in the document, whatever its fragments spread.
 * In production the messages do not reveal the limits.
 *
 * Variables are held to the same depth as documents (GRAPHQL_MAX_DEPTH) before anything walks
 * them recursively: no input of the schema nests half as deep, and 20,000 levels would overflow
 * the stack of graphql's coercion (a RangeError, which is our fault, not the caller's).
 *
 * graphql-armor's max-tokens is not used: graphql 16's parser counts the same tokens
 * (`parse(…, { maxTokens })`, Apollo's `parseOptions`), where armor's needs envelop's parse hook.
 */
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import type { ApolloServerPlugin } from "@apollo/server";
import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import { measureCost, type CostWeights } from "./query-cost.js";
import { coerceVariables } from "./variable-values.js";

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxTokens: number;
  /** Weight of a list field without `first`. */
  defaultListSize: number;
  /** Weight of a `first` that cannot be resolved (MAX_PAGE_SIZE, the largest any connection accepts). */
  maxPageSize: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 12, maxAliases: 15, maxCost: 20_000, maxTokens: 2_000, defaultListSize: 10, maxPageSize: 100 };

export function limitError(message: string, detail: string, isProduction: boolean): GraphQLError {
  return new GraphQLError(isProduction ? message : `${message} (${detail})`, {
    extensions: { code: "GRAPHQL_VALIDATION_FAILED", http: { status: 400 } },
  });
}

/**
 * The validation rules every transport adds to graphql's: depth and aliases (variables are not
 * needed for these), and in production no introspection (`__schema`, `__type`; `__typename`
 * stays). Apollo takes them as `validationRules` with its own introspection switch left on, so
 * this list alone decides, for HTTP and the sockets alike.
 *
 * Depth and aliases are counted per operation with each fragment expanded where it is spread. Both armor rules remember each
 * fragment's count by name, so a fragment spread many times is still walked once (the
 * abuse tests hold them to that). Depth counts fields only (fragments are flattened);
 * `__schema` (introspection, off in production) is not counted.
 */
export function limitRules(limits: QueryLimits, isProduction: boolean): ValidationRule[] {
  const report = (message: string) => (context: ValidationContext | null, error: GraphQLError) =>
    context?.reportError(limitError(message, error.message.replace(/^Syntax Error: /, ""), isProduction));
  const depth = maxDepthRule({
    n: limits.maxDepth,
    flattenFragments: true,
    ignoreIntrospection: true,
    propagateOnRejection: false,
    onReject: [report("Query is too deep")],
  });
  const aliases = maxAliasesRule({ n: limits.maxAliases, propagateOnRejection: false, onReject: [report("Too many aliases")] });
  return isProduction ? [depth, aliases, NoSchemaIntrospectionCustomRule] : [depth, aliases];
}

/**
 * What a valid document's operation is held to once its variables are known: variables no
 * deeper than `maxDepth` (BAD_USER_INPUT), then the cost limit for the operation execution
 * will pick (or every one, when none can be picked), weighed with the variables as execution
 * will coerce them. Returns the GraphQLError to answer with, or null.
 */
export function checkOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  limits: QueryLimits,
  isProduction: boolean,
): GraphQLError | null {
  if (variables && nestedDeeperThan(variables, limits.maxDepth)) {
    return new GraphQLError("Variables are nested too deeply", { extensions: { code: "BAD_USER_INPUT", http: { status: 400 } } });
  }
  const picked = getOperationAST(document, operationName);
  const operations = picked ? [picked] : document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  // Every selection is at least one token: a document within the token limit never reaches this cap.
  const weights = { defaultListSize: limits.defaultListSize, maxPageSize: limits.maxPageSize, maxNodes: limits.maxTokens };
  for (const operation of operations) {
    const cost = costOf(schema, document, operation, variables, weights);
    if (cost > limits.maxCost) return limitError("Query is too complex", `cost ${cost} > ${limits.maxCost}`, isProduction);
  }
  return null;
}

/**
 * `measureCost` with the variables as execution will coerce them. An operation that declares
 * no variables weighs the same whatever is sent: weighed once per parsed document (Apollo keeps
 * one per distinct query text, so a dashboard's refreshes weigh it once) and remembered with it.
 */
function costOf(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | null | undefined, weights: CostWeights): number {
  const fixed = !operation.variableDefinitions?.length;
  const known = fixed ? fixedCosts.get(document)?.get(operation) : undefined;
  if (known && known.schema === schema && sameCostWeights(known.weights, weights)) return known.cost;
  const { cost } = measureCost(schema, document, operation, coerceVariables(schema, operation, variables).coerced ?? null, weights);
  if (fixed) {
    const byOperation = fixedCosts.get(document) ?? new Map<OperationDefinitionNode, FixedCost>();
    fixedCosts.set(document, byOperation.set(operation, { schema, weights, cost }));
  }
  return cost;
}

interface FixedCost {
  schema: GraphQLSchema;
  weights: CostWeights;
  cost: number;
}

const fixedCosts = new WeakMap<DocumentNode, Map<OperationDefinitionNode, FixedCost>>();

function sameCostWeights(a: CostWeights, b: CostWeights): boolean {
  return a.defaultListSize === b.defaultListSize && a.maxPageSize === b.maxPageSize && a.maxNodes === b.maxNodes;
}

/**
 * Every error graphql's coercion finds in the variables of the operation execution will pick,
 * as BAD_USER_INPUT, the code Apollo gives them on HTTP (where Apollo coerces them itself).
 * graphql-ws and graphql-sse would execute with them and answer INTERNAL_SERVER_ERROR.
 */
export function variableErrors(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): GraphQLError[] {
  const operation = getOperationAST(document, operationName);
  if (!operation || !coerceVariables(schema, operation, variables).errors) return [];
  const { errors = [] } = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  return errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: "BAD_USER_INPUT", http: { status: 400 } } }));
}

/** Whether any value inside `value` sits more than `max` objects or lists deep (walked without recursion). */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== "object" || current === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/** An Apollo plugin that holds HTTP operations to `checkOperation` once variables are known. */
export function operationLimitPlugin(limits: QueryLimits, isProduction: boolean): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operationName, request }) {
          const error = checkOperation(schema, document, operationName, request.variables, limits, isProduction);
          if (error) throw error;
        },
      };
    },
  };
}
