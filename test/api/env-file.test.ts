/**
 * `npm start` reads its settings from a .env file too (here named by ENV_FILE, as the
 * process tests never read the project's own .env), and the real environment overrides it.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_JWT_SECRET } from "../support/api.js";
import { spawnApi } from "../support/process.js";

let dir: string;
let envFile: string;
let filePort: number;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await sleep(200);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "api-env-file-"));
  filePort = await freePort();
  envFile = join(dir, "api.env");
  const lines = [`PORT=${filePort}`, "LOG_LEVEL=warn", `AUTH_JWT_SECRET=${TEST_JWT_SECRET}`, `EMBEDDED_DATA_DIR=${join(dir, "data")}`];
  await writeFile(envFile, lines.join("\n") + "\n");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the env file", () => {
  it("sets PORT and LOG_LEVEL", async () => {
    const api = spawnApi({ ENV_FILE: envFile, PORT: undefined, LOG_LEVEL: undefined });
    try {
      await waitForHealth(`http://127.0.0.1:${filePort}/healthz`, 60_000);
      expect(api.output()).toContain("100ms is not configured"); // a warning
      expect(api.output()).not.toContain("API listening"); // info, below LOG_LEVEL=warn
    } finally {
      expect(await api.stop()).toBe(0);
    }
  }, 90_000);

  it("gives way to the environment", async () => {
    const api = spawnApi({ ENV_FILE: envFile, PORT: "0", LOG_LEVEL: "info" });
    try {
      const [line] = await api.waitFor(/^\{[^\n]*"API listening"[^\n]*\}(?=\n)/m, 60_000);
      const { url } = JSON.parse(line) as { url: string };
      expect(Number(new URL(url).port)).not.toBe(filePort);
      expect(api.output()).toContain("settings read from the env file");
    } finally {
      expect(await api.stop()).toBe(0);
    }
  }, 90_000);
});
