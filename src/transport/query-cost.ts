/**
 * The weight of one operation: 1 per field, times the size of every list it sits in. A
 * connection's size is its `first` as execution will see it (variables coerced, defaults
 * applied); a `first` that cannot be resolved weighs `maxPageSize`, other lists
 * `defaultListSize`.
 *
 * Kept as our own code: graphql-armor's cost rule weighs fields by kind and depth and has no
 * notion of a list multiplying its selection by the enclosing `first`.
 *
 * Linear in the document: a fragment's weight does not depend on where it is spread, so each
 * fragment is walked once and every later spread reuses its weight. `visited` counts the
 * selections walked; past `maxNodes` the walk stops and the cost is Infinity.
 */
import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";

export interface CostWeights {
  /** Weight of a list field without a `first` argument. */
  defaultListSize: number;
  /** Weight of a `first` that cannot be resolved (an invalid value, a variable that failed coercion). */
  maxPageSize: number;
  /** Most selections one measurement walks. */
  maxNodes: number;
}

export interface CostMeasure {
  cost: number;
  /** Selections walked (fragments once each): at most the number of selections in the document. */
  visited: number;
}

/**
 * `variables` are the operation's coerced values (graphql's `getVariableValues`), or null
 * when coercion failed: then every `first` given by a variable weighs `maxPageSize`.
 */
export function measureCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | null,
  weights: CostWeights,
): CostMeasure {
  const root = schema.getRootType(operation.operation);
  if (!root) return { cost: 0, visited: 0 };
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const fragmentCosts = new Map<string, number>();
  let visited = 0;

  const walk = (parent: GraphQLNamedType, set: SelectionSetNode | undefined): number => {
    if (!set) return 0;
    let total = 0;
    for (const selection of set.selections) {
      if (++visited > weights.maxNodes) return Infinity;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) ?? parent) : parent;
        total += walk(type, selection.selectionSet);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        total += spread(parent, selection.name.value);
      } else {
        const field = fieldOf(parent, selection.name.value);
        if (!field) total += 1;
        else total += 1 + listSize(field, selection, variables, weights) * walk(getNamedType(field.type), selection.selectionSet);
      }
    }
    return total;
  };

  const spread = (parent: GraphQLNamedType, name: string): number => {
    const known = fragmentCosts.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    if (!fragment) return 0;
    fragmentCosts.set(name, 0); // a cycle (refused by validation) adds nothing more
    const cost = walk(schema.getType(fragment.typeCondition.name.value) ?? parent, fragment.selectionSet);
    fragmentCosts.set(name, cost);
    return cost;
  };

  const cost = walk(root, operation.selectionSet);
  return { cost: visited > weights.maxNodes ? Infinity : cost, visited };
}

function fieldOf(type: GraphQLNamedType, name: string): GraphQLField<unknown, unknown> | undefined {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
}

/** How many items a field multiplies its selection by. */
function listSize(field: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown> | null, weights: CostWeights): number {
  if (field.name === "edges") return 1; // the connection's `first` counted the page already
  const firstArg = field.args.find((a) => a.name === "first");
  if (!firstArg) return isListType(getNullableType(field.type)) ? weights.defaultListSize : 1;
  const given = node.arguments?.find((a) => a.name.value === "first");
  if (variables === null && given?.value.kind === Kind.VARIABLE) return weights.maxPageSize;
  let first: unknown;
  try {
    // What the resolver will receive: literal, variable (coerced, with its default) or the argument's default.
    first = getArgumentValues(field, node, variables ?? {}).first;
  } catch {
    return weights.maxPageSize;
  }
  // Our resolvers read a null `first` as the argument's default.
  if (first === null || first === undefined) first = firstArg.defaultValue;
  if (typeof first !== "number" || !Number.isInteger(first) || first < 0) return weights.maxPageSize;
  return Math.max(first, 1);
}
