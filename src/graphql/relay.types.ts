import { Field, ID, InterfaceType, ObjectType } from "type-graphql";

@InterfaceType({ description: "An object with a stable, globally unique id." })
export abstract class Node {
  @Field(() => ID)
  id!: string;
}

@ObjectType({ simpleResolvers: true, description: "Where a page of a connection ends, and whether more follows." })
export class PageInfo {
  @Field(() => Boolean, { description: "True when another page follows this one." })
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: "Pass as `after` to fetch the next page." })
  endCursor!: string | null;

  static of(cursors: readonly string[], hasNextPage: boolean): PageInfo {
    return Object.assign(new PageInfo(), { hasNextPage, endCursor: cursors.at(-1) ?? null });
  }
}
