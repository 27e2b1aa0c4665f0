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
  },
});
