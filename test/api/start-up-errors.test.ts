/**
 * The real entry point (`npm start`) that cannot start says which setting to look at: the
 * database it could not reach (without the password) or the port already taken.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_JWT_SECRET } from "../support/api.js";
import { spawnApi } from "../support/process.js";

let dataDir: string;
let taken: Server;
let takenPort: number;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "api-start-up-"));
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  takenPort = (taken.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
  await rm(dataDir, { recursive: true, force: true });
});

describe("start-up failures", () => {
  it("names the unreachable database and DATABASE_URL, never its password", async () => {
    // A port nothing listens on: the server that held it is closed.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const api = spawnApi({ DATABASE_URL: `postgres://api:pw-not-to-print@127.0.0.1:${port}/clinic`, AUTH_JWT_SECRET: TEST_JWT_SECRET, PORT: "0" });
    expect(await api.exited).toBe(1);
    expect(api.output()).toContain(`cannot reach the database at 127.0.0.1:${port}/clinic`);
    expect(api.output()).toContain("check DATABASE_URL");
    expect(api.output()).not.toContain("pw-not-to-print");
  }, 60_000);

  it("says that PORT is in use", async () => {
    const api = spawnApi({ EMBEDDED_DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_JWT_SECRET, PORT: String(takenPort) });
    expect(await api.exited).toBe(1);
    expect(api.output()).toContain(`PORT ${takenPort} is in use: set PORT`);
  }, 60_000);
});
