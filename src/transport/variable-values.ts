/**
 * graphql-js's coercion of an operation's variables, done once per request for everyone who
 * asks: the cost limit (limits.ts) needs the values, and the compiled executor needs to know
 * whether graphql-js accepts them (graphql-jit accepts some that graphql-js refuses, such as a
 * list given for an input object, and words its refusals differently from what Apollo turns
 * into BAD_USER_INPUT). Apollo hands both the same variables object, which keys the result.
 */
import { getVariableValues, type GraphQLSchema, type OperationDefinitionNode } from "graphql";

type Coercion = ReturnType<typeof getVariableValues>;

const coercions = new WeakMap<object, { schema: GraphQLSchema; operation: OperationDefinitionNode; coercion: Coercion }>();

/** graphql-js's `getVariableValues` (first error only), remembered for this variables object. */
export function coerceVariables(schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Record<string, unknown> | null | undefined): Coercion {
  const coerce = () => getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
  if (!variables) return coerce();
  const known = coercions.get(variables);
  if (known?.schema === schema && known.operation === operation) return known.coercion;
  const coercion = coerce();
  coercions.set(variables, { schema, operation, coercion });
  return coercion;
}
