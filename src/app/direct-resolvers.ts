/**
 * type-graphql wraps every resolver method in a handler that, on each call, builds a resolver
 * data object, asks its container for the class's instance, runs the (here empty) middleware
 * chain and sorts and maps the parameters' metadata. A dashboard page calls four such field
 * resolvers per row (doctor, patient, appointment, participants: 200 calls), and a
 * subscription's field is resolved once per event it sends (a replay of 10,000 events: 10,000
 * calls, 14% of the replay's CPU). For a field resolver or subscription field whose parameters
 * are only `@Root()`, `@Ctx()`, `@Info()` and scalar `@Arg()`s, with no middleware or roles,
 * this puts in its place a function that calls the method directly, with the same arguments
 * type-graphql would pass (a scalar argument is passed as graphql coerced it: type-graphql
 * converts only input classes, and the schema is built with `validate: false`); a root that is
 * not already an instance of its declared class (which type-graphql would convert) still goes
 * through type-graphql's own handler. Fields with other arguments keep type-graphql's handler.
 */
import { GraphQLScalarType, isObjectType, type GraphQLField, type GraphQLSchema } from "graphql";
import { getMetadataStorage } from "type-graphql";

type Storage = ReturnType<typeof getMetadataStorage>;
type Param = NonNullable<Storage["fieldResolvers"][number]["params"]>[number];
type Meta = Pick<Storage["fieldResolvers"][number], "target" | "methodName" | "schemaName" | "params" | "middlewares" | "roles">;
type Handler = (...args: unknown[]) => unknown;
type Picker = (root: unknown, args: Record<string, unknown>, context: unknown, info: unknown) => unknown;

/** Replaces the handlers it can in `schema` (built from `resolvers`), in place; returns the schema. */
export function directFieldResolvers(schema: GraphQLSchema, resolvers: readonly Function[]): GraphQLSchema {
  const storage = getMetadataStorage();
  const instances = new Map<Function, Record<string, Handler>>();
  const instanceOf = (target: Function) => {
    const instance = instances.get(target) ?? new (target as new () => Record<string, Handler>)();
    instances.set(target, instance);
    return instance;
  };
  for (const meta of storage.fieldResolvers) {
    if (!resolvers.includes(meta.target) || !meta.getObjectType) continue;
    const objectType = storage.objectTypes.find((o) => o.target === meta.getObjectType!());
    const type = objectType && schema.getType(objectType.name);
    if (isObjectType(type)) callDirectly(type.getFields()[meta.schemaName], meta, instanceOf);
  }
  const subscriptions = schema.getSubscriptionType()?.getFields() ?? {};
  for (const meta of storage.subscriptions) {
    if (resolvers.includes(meta.target)) callDirectly(subscriptions[meta.schemaName], meta, instanceOf);
  }
  return schema;
}

function callDirectly(definition: GraphQLField<unknown, unknown> | undefined, meta: Meta, instanceOf: (target: Function) => Record<string, Handler>): void {
  if (!definition?.resolve || meta.middlewares?.length || meta.roles?.length) return;
  const picks = (meta.params ?? []).slice().sort((a, b) => a.index - b.index).map(pick);
  if (picks.some((p) => p === null)) return;
  const rootParam = meta.params?.find((p) => p.kind === "root");
  const RootClass = rootParam?.kind === "root" ? (rootParam.getType?.() as Function | undefined) : undefined;
  const instance = instanceOf(meta.target);
  const method = instance[meta.methodName]!;
  const wrapped = definition.resolve;
  definition.resolve = (root, args, context, info) => {
    if (RootClass && root != null && !(root instanceof RootClass)) return wrapped(root, args, context, info);
    return method.apply(instance, picks.map((p) => p!(root, args, context, info)));
  };
}

/** How type-graphql computes one parameter, for the kinds passed through unchanged; null otherwise. */
function pick(param: Param): Picker | null {
  if (param.kind === "root" && param.propertyName === undefined) return (root) => root;
  if (param.kind === "context" && param.propertyName === undefined) return (_root, _args, context) => context;
  if (param.kind === "info") return (_root, _args, _context, info) => info;
  if (param.kind === "arg" && isScalar(param.getType()) && param.validateSettings === undefined && param.validateFn === undefined) {
    const name = param.name;
    return (_root, args) => args[name];
  }
  return null;
}

function isScalar(type: unknown): boolean {
  return type instanceof GraphQLScalarType || type === String || type === Number || type === Boolean;
}
