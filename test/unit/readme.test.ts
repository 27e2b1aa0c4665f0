import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configTable } from "../../src/scripts/config-table.js";

describe("README", () => {
  it("documents exactly the configuration the server reads (run `npm run config:table` when this fails)", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
    expect(section).toBe(configTable());
  });
});
