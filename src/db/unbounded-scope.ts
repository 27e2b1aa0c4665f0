import { AsyncLocalStorage } from "node:async_hooks";

/**
 * `Database.unbounded`'s scope: whether the caller runs inside it. The AsyncLocalStorage is
 * disabled again once no run is in progress: while enabled, Node (20) runs an async hook on
 * every promise the process makes, and the start-up migrations would otherwise leave it so for
 * good (a dashboard page makes hundreds of promises: 1-2% of its CPU).
 */
export function unboundedScope(): {
  /** Whether the caller runs inside the scope. */
  active: () => boolean;
  /** Whether any run is in progress, whoever asks (socket-watchdog.ts closes nothing then). */
  running: () => boolean;
  run: <T>(fn: () => Promise<T>) => Promise<T>;
} {
  const storage = new AsyncLocalStorage<true>();
  let running = 0;
  return {
    active: () => running > 0 && storage.getStore() === true,
    running: () => running > 0,
    run: async (fn) => {
      running++;
      try {
        return await storage.run(true, fn);
      } finally {
        if (--running === 0) storage.disable();
      }
    },
  };
}
