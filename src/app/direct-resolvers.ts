/**
 * type-graphql wraps every resolver method in a handler that, on each call, builds a resolver
 * data object, asks its container for the class's instance, runs the (here empty) middleware
 * chain and sorts and maps the parameters' metadata. A dashboard page calls four such field
 * resolvers per row (doctor, patient, appointment, participants: 200 calls). For a field
 * resolver whose parameters are only `@Root()`, `@Ctx()` and `@Info()`, with no middleware or
 * roles, this puts in its place a function that calls the method directly, with the same
 * arguments type-graphql would pass; a root that is not already an instance of its declared
 * class (which type-graphql would convert) still goes through type-graphql's own handler.
 * Fields with arguments keep type-graphql's handler (it coerces and may validate them).
 */
import { isObjectType, type GraphQLSchema } from "graphql";
import { getMetadataStorage } from "type-graphql";

type Param = NonNullable<ReturnType<typeof getMetadataStorage>["fieldResolvers"][number]["params"]>[number];
type Handler = (...args: unknown[]) => unknown;
type Pick = (root: unknown, context: unknown, info: unknown) => unknown;

/** Replaces the handlers it can in `schema` (built from `resolvers`), in place; returns the schema. */
export function directFieldResolvers(schema: GraphQLSchema, resolvers: readonly Function[]): GraphQLSchema {
  const storage = getMetadataStorage();
  const instances = new Map<Function, Record<string, Handler>>();
  for (const meta of storage.fieldResolvers) {
    if (!resolvers.includes(meta.target) || meta.middlewares?.length || meta.roles?.length || !meta.getObjectType) continue;
    const objectType = storage.objectTypes.find((o) => o.target === meta.getObjectType!());
    const type = objectType && schema.getType(objectType.name);
    const definition = isObjectType(type) ? type.getFields()[meta.schemaName] : undefined;
    if (!definition?.resolve) continue;
    const picks = (meta.params ?? []).slice().sort((a, b) => a.index - b.index).map(pick);
    if (picks.some((p) => p === null)) continue;
    const rootParam = meta.params?.find((p) => p.kind === "root");
    const RootClass = rootParam?.kind === "root" ? (rootParam.getType?.() as Function | undefined) : undefined;
    const instance = instances.get(meta.target) ?? (new (meta.target as new () => Record<string, Handler>)());
    instances.set(meta.target, instance);
    const method = instance[meta.methodName]!;
    const wrapped = definition.resolve;
    definition.resolve = (root, args, context, info) => {
      if (RootClass && root != null && !(root instanceof RootClass)) return wrapped(root, args, context, info);
      return method.apply(instance, picks.map((p) => p!(root, context, info)));
    };
  }
  return schema;
}

/** How type-graphql computes one parameter, for the kinds passed through unchanged; null otherwise. */
function pick(param: Param): Pick | null {
  if (param.kind === "root" && param.propertyName === undefined) return (root) => root;
  if (param.kind === "context" && param.propertyName === undefined) return (_root, context) => context;
  if (param.kind === "info") return (_root, _context, info) => info;
  return null;
}
