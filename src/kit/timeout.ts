/** `promise`, or a rejection ("… did not answer within N ms") once `ms` have passed. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = "database"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
