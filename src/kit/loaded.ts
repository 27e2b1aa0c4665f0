/**
 * What resolvers do with what a DataLoader holds: map a value that may still be on its way,
 * and insist on a row the database guarantees.
 */

/** `fn` of a value that may still be on its way, without a promise when it is not. (Not named `then`: a module exporting `then` is a thenable.) */
export function mapLoaded<T, U>(value: T | Promise<T>, fn: (value: T) => U | Promise<U>): U | Promise<U> {
  return isPromiseLike(value) ? Promise.resolve(value).then(fn) : fn(value);
}

export function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === "function";
}

/** For a reference the database guarantees (a foreign key): absence is a bug, not a 404. */
export function present<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(`missing ${what} behind a foreign key`);
  return value;
}
