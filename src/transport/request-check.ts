/**
 * One entry for every transport that runs documents outside Apollo (graphql-ws today, SSE
 * and older protocols later): parse with the token limit, validate with graphql's rules plus
 * our limits, then weigh the operation with its variables. Apollo's HTTP pipeline runs the
 * same pieces itself (`parseOptions.maxTokens`, `limitRules` as validationRules,
 * `operationLimitPlugin`), so a document gets one answer whichever way it arrives.
 */
import {
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from "graphql";
import { LRUCache } from "lru-cache";
import { formatError } from "./format-error.js";
import { checkOperation, limitRules, variableErrors, type QueryLimits } from "./limits.js";

/** The document to execute, or the errors to answer with (codes set, nothing executed). */
export type RequestCheck = (
  schema: GraphQLSchema,
  query: string | DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
) => DocumentNode | GraphQLError[];

const VALID_DOCUMENTS_PER_SCHEMA = 500;

export function createRequestCheck(limits: QueryLimits, isProduction: boolean): RequestCheck {
  const rules = [...specifiedRules, ...limitRules(limits, isProduction)];
  // Dashboards send the same few documents: each valid text is parsed and validated once, and
  // its (location-free) AST shared between sockets. Validity does not depend on variables.
  const valid = new WeakMap<GraphQLSchema, LRUCache<string, DocumentNode>>();
  const validDocuments = (schema: GraphQLSchema) => {
    let cache = valid.get(schema);
    if (!cache) valid.set(schema, (cache = new LRUCache({ max: VALID_DOCUMENTS_PER_SCHEMA })));
    return cache;
  };
  const check = (schema: GraphQLSchema, document: DocumentNode): GraphQLError[] =>
    validate(schema, document, rules).map((e) =>
      e.extensions.code ? e : new GraphQLError(hideSuggestions(e.message, isProduction), { nodes: e.nodes, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }),
    );

  return (schema, query, operationName, variables) => {
    let document = typeof query === "string" ? validDocuments(schema).get(query) : undefined;
    if (!document) {
      const parsed = typeof query === "string" ? parseLimited(query, limits.maxTokens) : query;
      if (Array.isArray(parsed)) return parsed;
      const errors = check(schema, parsed);
      if (errors.length > 0) return errors;
      document = parsed;
      if (typeof query === "string") validDocuments(schema).set(query, document);
    }
    const operationError = checkOperation(schema, document, operationName, variables, limits, isProduction);
    if (operationError) return [operationError];
    const invalid = variableErrors(schema, document, operationName, variables);
    return invalid.length > 0 ? invalid : document;
  };
}

function parseLimited(query: string, maxTokens: number): DocumentNode | GraphQLError[] {
  try {
    return parse(query, { maxTokens, noLocation: true });
  } catch (error) {
    const message = error instanceof GraphQLError ? error.message : "Syntax Error";
    return [new GraphQLError(message, { extensions: { code: "GRAPHQL_PARSE_FAILED" } })];
  }
}

/**
 * As Apollo does on HTTP in production (`hideSchemaDetailsFromClientErrors`): no "Did you
 * mean …?" schema hints. graphql-armor's block-field-suggestions is an envelop plugin with
 * no hook Apollo or graphql-ws can call, so the same replacement is done here.
 */
export function hideSuggestions(message: string, isProduction: boolean): string {
  return isProduction ? message.replace(/ ?Did you mean .*$/, "") : message;
}

export function hideFormattedSuggestions(error: GraphQLFormattedError, isProduction: boolean): GraphQLFormattedError {
  return isProduction ? { ...error, message: hideSuggestions(error.message, isProduction) } : error;
}

/** A subscription result for the wire: errors through the one mapper, hints hidden in production. */
export function formatExecutionResult(result: ExecutionResult, isProduction: boolean): FormattedExecutionResult {
  const { errors, ...rest } = result;
  if (!errors) return rest as FormattedExecutionResult;
  return { ...rest, errors: errors.map((e) => hideFormattedSuggestions(formatError(e.toJSON(), e), isProduction)) };
}
