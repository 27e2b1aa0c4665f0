import { defineConfig } from "vitest/config";

/**
 * Files that measure the API process itself (its RSS, /healthz answering under abuse), and the
 * reset storm (two instances, every connection destroyed over and over, for 20–50 s): they run
 * after the rest, one at a time (`npm test` runs both configs), so the other files' load does
 * not move their figures or stretch the storm. `test/vitest.alone.config.ts` runs them.
 */
export const RUN_ALONE = [
  "test/security/abuse-streams.test.ts",
  "test/security/abuse-documents.test.ts",
  "test/property/fragment-dags.test.ts",
  "test/faults/reset-storm.test.ts",
];

export default defineConfig({
  // graphql 16 ships index.js (CJS) and index.mjs (ESM) with no exports map: make vite
  // resolve our own `graphql` imports to the same CJS build that type-graphql and Apollo
  // load, or scalars built here fail with "from another module or realm".
  resolve: { alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }] },
  root: new URL("..", import.meta.url).pathname,
  test: {
    setupFiles: ["reflect-metadata"],
    include: ["test/**/*.test.ts"],
    exclude: ["**/node_modules/**", ...RUN_ALONE],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most files wait on sockets, servers and PostgreSQL rather than the CPU: four at a time on
    // two cores took the suite from 366 s to about 200 s (2026-12-07).
    maxWorkers: 4,
  },
});
