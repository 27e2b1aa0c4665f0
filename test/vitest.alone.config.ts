import { defineConfig } from "vitest/config";
import base, { RUN_ALONE } from "./vitest.config.js";

/** The files that measure the API process itself, one at a time (see vitest.config.ts). */
export default defineConfig({
  ...base,
  test: { ...base.test, include: RUN_ALONE, exclude: ["**/node_modules/**"], maxWorkers: 1, fileParallelism: false },
});
