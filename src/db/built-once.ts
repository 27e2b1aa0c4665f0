/**
 * Statements whose SQL is built once per process, then run on any handle: the pool, a
 * transaction, PGlite. drizzle builds a query's text on every execution (its entity checks and
 * chunk walks were about a tenth of the main thread at 200 webhooks/s, for statements whose
 * text never changes: lists are one array parameter, see batch-sql.ts). A drizzle prepared
 * query keeps the text but is tied to the handle it was built on, and the webhook path runs
 * on a new transaction every time. So the first handle's prepared query is a template, and
 * another handle's is an object inheriting everything from it (text, parameters, field
 * mapping) but the driver client it runs on and the query logger: the `client` and `logger`
 * both drizzle's postgres-js and PGlite prepared queries use, the handle's session's. One
 * template per driver (tests run both in one process). drizzle has no public way to rebind
 * a prepared query; test/integration/built-once.test.ts pins this one against upgrades.
 */
import type { Db } from "./client.js";

type Prepared = { execute(values?: Record<string, unknown>): Promise<unknown> };
type Buildable = { prepare(name: string): Prepared };
type Session = { client: object; logger: unknown; constructor: Function };
type Rows<B extends Buildable> = Awaited<ReturnType<ReturnType<B["prepare"]>["execute"]>>;

/**
 * A statement for one handle. `execute` sends nothing until awaited, and then as a drizzle
 * query builder does (one job later, through the same prepared query's `execute`): the apply
 * sends statements together on its transaction and relies on their going out in the order
 * they are awaited, built once or not (test/api/webhook-batches.test.ts).
 */
export interface Statement<R> {
  execute(values?: Record<string, unknown>): PromiseLike<R>;
}

/**
 * `build` makes the statement on a handle, with `sql.placeholder`s for its values; `name` is
 * drizzle's (any name asks it to prepare; the server-side statement is postgres.js's, per text).
 */
export function builtOnce<B extends Buildable>(name: string, build: (db: Db) => B): (db: Db) => Statement<Rows<B>> {
  const templates = new Map<Function, Prepared>();
  const bound = new WeakMap<object, Statement<Rows<B>>>();
  return (db) => {
    const session = (db as unknown as { session: Session }).session;
    let statement = bound.get(session.client);
    if (statement) return statement;
    let template = templates.get(session.constructor);
    if (!template) {
      template = build(db).prepare(name);
      // Never run itself: every handle, the first too, runs through its own object, and the template keeps no handle alive.
      Object.assign(template, { client: null, logger: null });
      templates.set(session.constructor, template);
    }
    const run = Object.create(template, { client: { value: session.client }, logger: { value: session.logger } }) as Prepared;
    statement = { execute: (values) => ({ then: (onValue, onError) => (run.execute(values) as Promise<Rows<B>>).then(onValue, onError) }) };
    bound.set(session.client, statement);
    return statement;
  };
}
