/**
 * Query limits, the same on every transport: depth and aliases as validation rules
 * (graphql-armor's), cost once variables are known (query-cost.ts), tokens by graphql's own
 * parser (`maxTokens`). Every check is linear in the document, whatever its fragments spread.
 * In production the messages do not reveal the limits.
 *
 * graphql-armor's max-tokens is not used: graphql 16's parser counts the same tokens
 * (`parse(…, { maxTokens })`, Apollo's `parseOptions`), where armor's needs envelop's parse hook.
 */
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import type { ApolloServerPlugin } from "@apollo/server";
import {
  getOperationAST,
  GraphQLError,
  Kind,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import { measureCost } from "./query-cost.js";
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
 * Validation rules for depth and aliases (variables are not needed for these), counted per
 * operation with each fragment expanded where it is spread. Both armor rules remember each
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
  return [depth, aliases];
}

/**
 * The cost limit for a valid document: the operation execution will pick (or every one,
 * when none can be picked), weighed with the variables as execution will coerce them.
 * Returns a GraphQLError when over the limit.
 */
export function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  limits: QueryLimits,
  isProduction: boolean,
): GraphQLError | null {
  const picked = getOperationAST(document, operationName);
  const operations = picked ? [picked] : document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  // Every selection is at least one token: a document within the token limit never reaches this cap.
  const weights = { defaultListSize: limits.defaultListSize, maxPageSize: limits.maxPageSize, maxNodes: limits.maxTokens };
  for (const operation of operations) {
    const coerced = coerceVariables(schema, operation, variables);
    const { cost } = measureCost(schema, document, operation, coerced.coerced ?? null, weights);
    if (cost > limits.maxCost) return limitError("Query is too complex", `cost ${cost} > ${limits.maxCost}`, isProduction);
  }
  return null;
}

/** An Apollo plugin that enforces the cost limit once variables are known. */
export function costLimitPlugin(limits: QueryLimits, isProduction: boolean): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operationName, request }) {
          const error = checkCost(schema, document, operationName, request.variables, limits, isProduction);
          if (error) throw error;
        },
      };
    },
  };
}
