import { defineConfig } from "vitest/config";

export default defineConfig({
  // graphql 16 ships index.js (CJS) and index.mjs (ESM) with no exports map: make vite
  // resolve our own `graphql` imports to the same CJS build that type-graphql and Apollo
  // load, or scalars built here fail with "from another module or realm".
  resolve: { alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }] },
  root: new URL("..", import.meta.url).pathname,
  test: {
    setupFiles: ["reflect-metadata"],
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most files wait on sockets, servers and PostgreSQL rather than the CPU: four at a time on
    // two cores took the suite from 366 s to 190 s (2026-12-07), green three runs in a row.
    maxWorkers: 4,
  },
});
