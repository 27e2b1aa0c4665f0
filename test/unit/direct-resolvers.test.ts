/**
 * Resolvers called without type-graphql's per-call handler: the same arguments reach the
 * method (scalar arguments as graphql coerced them), and what the direct call cannot stand in
 * for (middleware, an input class argument) keeps type-graphql's handler.
 */
import { describe, expect, it } from "vitest";
import { createPubSub } from "@graphql-yoga/subscription";
import { parse, subscribe, type ExecutionResult } from "graphql";
import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, ObjectType, Query, Resolver, Root, Subscription, UseMiddleware, buildSchema } from "type-graphql";
import { directFieldResolvers } from "../../src/app/direct-resolvers.js";

@ObjectType()
class Tick {
  @Field(() => ID) id!: string;
  @Field(() => String) seen!: string;
}

@InputType()
class Range {
  @Field(() => Int) from!: number;
}

@Resolver(() => Tick)
class TickResolver {
  @Query(() => String)
  hello(): string {
    return "hi";
  }

  @Subscription(() => Tick, {
    subscribe: () => (async function* () { yield { n: 1 }; yield { n: 2 }; })(),
  })
  ticks(@Root() event: { n: number }, @Arg("after", () => ID, { nullable: true }) after: string | null, @Ctx() ctx: { who: string }): Tick {
    return Object.assign(new Tick(), { id: String(event.n), seen: `${ctx.who} after ${after}` });
  }

  @FieldResolver(() => String)
  padded(@Root() tick: Tick, @Arg("width", () => Int, { defaultValue: 3 }) width: number): string {
    return tick.id.padStart(width, "0");
  }

  @FieldResolver(() => String)
  @UseMiddleware(async (_data, next) => `[${await next()}]`)
  wrapped(@Root() tick: Tick): string {
    return tick.id;
  }

  @FieldResolver(() => String)
  ranged(@Root() tick: Tick, @Arg("range", () => Range) range: Range): string {
    return `${tick.id} from ${range.from} (${range instanceof Range ? "Range" : "plain"})`;
  }
}

async function schemaPair() {
  const built = await buildSchema({ resolvers: [TickResolver], pubSub: createPubSub(), validate: false });
  const before = { ...built.getSubscriptionType()!.getFields(), ...(built.getType("Tick") as import("graphql").GraphQLObjectType).getFields() };
  const resolvers = Object.fromEntries(Object.entries(before).map(([name, field]) => [name, field.resolve]));
  const schema = directFieldResolvers(built, [TickResolver]);
  return { schema, resolvers };
}

describe("direct resolvers", () => {
  it("replace the handler of subscription fields and field resolvers with scalar arguments, and keep middleware and input classes", async () => {
    const { schema, resolvers } = await schemaPair();
    const now = { ...schema.getSubscriptionType()!.getFields(), ...(schema.getType("Tick") as import("graphql").GraphQLObjectType).getFields() };
    expect(now.ticks!.resolve).not.toBe(resolvers.ticks);
    expect(now.padded!.resolve).not.toBe(resolvers.padded);
    expect(now.wrapped!.resolve).toBe(resolvers.wrapped);
    expect(now.ranged!.resolve).toBe(resolvers.ranged);
  });

  it("pass the same root, arguments (defaults included) and context as type-graphql", async () => {
    const { schema } = await schemaPair();
    const stream = (await subscribe({
      schema,
      document: parse(`subscription($after: ID) { ticks(after: $after) { id seen padded wide: padded(width: 5) wrapped ranged(range: { from: 2 }) } }`),
      variableValues: { after: "41" },
      contextValue: { who: "ana" },
    })) as AsyncIterableIterator<ExecutionResult>;
    const frames: unknown[] = [];
    for await (const frame of stream) frames.push(frame);
    expect(frames).toEqual([
      { data: { ticks: { id: "1", seen: "ana after 41", padded: "001", wide: "00001", wrapped: "[1]", ranged: "1 from 2 (Range)" } } },
      { data: { ticks: { id: "2", seen: "ana after 41", padded: "002", wide: "00002", wrapped: "[2]", ranged: "2 from 2 (Range)" } } },
    ]);
  });
});
