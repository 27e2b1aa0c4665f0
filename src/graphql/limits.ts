/**
 * Query limits, the same on HTTP and on WebSocket: depth, aliases and cost are checked here
 * (cost weighs a list by its `first`), tokens by graphql's parser (`maxTokens`). In
 * production the messages do not reveal the limits.
 */
import {
  GraphQLError,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  valueFromAST,
} from "graphql";

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxTokens: number;
  /** Weight of a list field without `first`. */
  defaultListSize: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 12, maxAliases: 15, maxCost: 20_000, maxTokens: 2_000, defaultListSize: 10 };

function limitError(message: string, detail: string, isProduction: boolean): GraphQLError {
  return new GraphQLError(isProduction ? message : `${message} (${detail})`, {
    extensions: { code: "GRAPHQL_VALIDATION_FAILED", http: { status: 400 } },
  });
}

/** Validation rules for depth and aliases (variables are not needed for these). */
export function limitRules(limits: QueryLimits, isProduction: boolean): ValidationRule[] {
  const depthRule: ValidationRule = (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const fragments = Object.fromEntries(
        context.getDocument().definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
      );
      const depth = depthOf(node.selectionSet, fragments, new Set());
      if (depth > limits.maxDepth) context.reportError(limitError("Query is too deep", `depth ${depth} > ${limits.maxDepth}`, isProduction));
    },
  });
  const aliasRule: ValidationRule = (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    return {
      Field(node) {
        if (node.alias) aliases++;
      },
      Document: {
        leave() {
          if (aliases > limits.maxAliases) context.reportError(limitError("Too many aliases", `${aliases} > ${limits.maxAliases}`, isProduction));
        },
      },
    };
  };
  return [depthRule, aliasRule];
}

function depthOf(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, seen: Set<string>): number {
  if (!set) return 0;
  let max = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith("__")) continue; // introspection is off in production
      max = Math.max(max, 1 + depthOf(selection.selectionSet, fragments, seen));
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, depthOf(selection.selectionSet, fragments, seen));
    } else {
      const name = selection.name.value;
      const fragment = fragments[name];
      if (!fragment || seen.has(name)) continue;
      max = Math.max(max, depthOf(fragment.selectionSet, fragments, new Set(seen).add(name)));
    }
  }
  return max;
}

/**
 * The operation's cost: 1 per field, times the size of every list it sits in (`first`, or
 * `defaultListSize`). Returns a GraphQLError when over the limit.
 */
export function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  limits: QueryLimits,
  isProduction: boolean,
): GraphQLError | null {
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operations.find((o) => !operationName || o.name?.value === operationName) ?? operations[0];
  if (!operation) return null;
  const root = operation.operation === "query" ? schema.getQueryType() : operation.operation === "mutation" ? schema.getMutationType() : schema.getSubscriptionType();
  if (!root) return null;
  const fragments = Object.fromEntries(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const cost = costOf(schema, root, operation.selectionSet, fragments, variables ?? {}, limits, new Set());
  return cost > limits.maxCost ? limitError("Query is too complex", `cost ${cost} > ${limits.maxCost}`, isProduction) : null;
}

function costOf(
  schema: GraphQLSchema,
  parent: GraphQLNamedType,
  set: SelectionSetNode | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  limits: QueryLimits,
  seen: Set<string>,
): number {
  if (!set) return 0;
  let total = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) ?? parent) : parent;
      total += costOf(schema, type, selection.selectionSet, fragments, variables, limits, seen);
    } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = fragments[selection.name.value];
      if (!fragment || seen.has(fragment.name.value)) continue;
      const type = schema.getType(fragment.typeCondition.name.value) ?? parent;
      total += costOf(schema, type, fragment.selectionSet, fragments, variables, limits, new Set(seen).add(fragment.name.value));
    } else {
      const field = fieldOf(parent, selection.name.value);
      if (!field) {
        total += 1;
        continue;
      }
      const child = getNamedType(field.type);
      const inner = costOf(schema, child, selection.selectionSet, fragments, variables, limits, seen);
      total += 1 + listSize(field, selection.arguments ?? [], variables, limits) * inner;
    }
  }
  return total;
}

function fieldOf(type: GraphQLNamedType, name: string): GraphQLField<unknown, unknown> | undefined {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
}

/** How many items a field multiplies its selection by. Connections count their `first`. */
function listSize(
  field: GraphQLField<unknown, unknown>,
  args: ReadonlyArray<{ name: { value: string }; value: import("graphql").ValueNode }>,
  variables: Record<string, unknown>,
  limits: QueryLimits,
): number {
  if (field.name === "edges") return 1; // the connection's `first` counted the page already
  const firstArg = field.args.find((a) => a.name === "first");
  if (firstArg) {
    const node = args.find((a) => a.name.value === "first");
    const value = node ? valueFromAST(node.value, firstArg.type, variables) : firstArg.defaultValue;
    return typeof value === "number" && value > 0 ? value : 1;
  }
  return isListType(getNullableType(field.type)) ? limits.defaultListSize : 1;
}

/** An Apollo plugin that enforces the cost limit once variables are known. */
export function costLimitPlugin(limits: QueryLimits, isProduction: boolean): import("@apollo/server").ApolloServerPlugin {
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
