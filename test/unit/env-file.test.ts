import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { envSchema } from "../../src/config/env.schema.js";
import { loadEnvFile } from "../../src/config/env-file.js";

const KEYS = ["ENV_FILE", "ENV_FILE_TEST_PORT", "ENV_FILE_TEST_LEVEL", "ENV_FILE_TEST_QUOTED"];
let dir: string;
let saved: Record<string, string | undefined>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "env-file-"));
  saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
  for (const key of KEYS) delete process.env[key];
});

afterEach(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await rm(dir, { recursive: true, force: true });
});

const lines = ["# comment", "ENV_FILE_TEST_PORT=4100", "ENV_FILE_TEST_LEVEL=warn # trailing comment", 'ENV_FILE_TEST_QUOTED="a b"', ""].join("\n");

describe("loadEnvFile", () => {
  it("reads .env in the working directory, and the environment's own values win", async () => {
    await writeFile(join(dir, ".env"), lines);
    process.env.ENV_FILE_TEST_LEVEL = "debug";
    expect(loadEnvFile(dir)).toEqual({ read: true, file: join(dir, ".env") });
    expect(process.env.ENV_FILE_TEST_PORT).toBe("4100");
    expect(process.env.ENV_FILE_TEST_QUOTED).toBe("a b");
    expect(process.env.ENV_FILE_TEST_LEVEL).toBe("debug");
  });

  it("tolerates a missing .env", () => {
    expect(loadEnvFile(dir)).toEqual({ read: false, reason: "absent" });
  });

  it("reads the file ENV_FILE names, none when it is empty, and refuses a named file that is missing", async () => {
    await writeFile(join(dir, "api.env"), lines);
    await writeFile(join(dir, ".env"), "ENV_FILE_TEST_PORT=1\n");
    process.env.ENV_FILE = "api.env";
    expect(loadEnvFile(dir)).toMatchObject({ read: true });
    expect(process.env.ENV_FILE_TEST_PORT).toBe("4100");
    delete process.env.ENV_FILE_TEST_PORT;
    process.env.ENV_FILE = "";
    expect(loadEnvFile(dir)).toEqual({ read: false, reason: "disabled" });
    expect(process.env.ENV_FILE_TEST_PORT).toBeUndefined();
    process.env.ENV_FILE = "nope.env";
    expect(() => loadEnvFile(dir)).toThrow(/ENV_FILE: .*nope\.env does not exist/);
  });
});

describe(".env.example", () => {
  it("names only variables the API reads", () => {
    const example = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
    const names = [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !(name in envSchema.shape))).toEqual([]);
  });
});
