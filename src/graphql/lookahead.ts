/**
 * Reading ahead in a resolver: what a child field will ask for, so that the parent can read it
 * in its own statement (`consultation(id:) { events(…) }` in one round trip) and prime the
 * request's loaders with it. The child still resolves on its own when the parent read nothing.
 */
import { getArgumentValues, getNamedType, isObjectType, Kind, type FieldNode, type GraphQLResolveInfo } from "graphql";

/**
 * The arguments (defaults and variables applied) of the sub-field `name` selected directly
 * under this field. Null when it is not, or not only so: selected twice (aliases), only
 * through fragments, under a directive (`@skip`, `@include`), or with arguments that do not
 * coerce; the child then reads alone, as it would have.
 */
export function selectedFieldArgs(info: GraphQLResolveInfo, name: string): Record<string, unknown> | null {
  const type = getNamedType(info.returnType);
  const definition = isObjectType(type) ? type.getFields()[name] : undefined;
  if (!definition || info.fieldNodes.length !== 1) return null;
  let found: FieldNode | null = null;
  for (const selection of info.fieldNodes[0]!.selectionSet?.selections ?? []) {
    if (selection.kind !== Kind.FIELD || selection.name.value !== name) continue;
    if (found || selection.directives?.length) return null;
    found = selection;
  }
  if (!found) return null;
  try {
    return getArgumentValues(definition, found, info.variableValues);
  } catch {
    return null;
  }
}
