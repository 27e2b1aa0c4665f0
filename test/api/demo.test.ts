/** `npm run demo` plays its scripted call to the end against the clearly labelled 100ms stand-in. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

describe("npm run demo", () => {
  it("labels the stand-in, prints the dashboard, tokens and pace, and plays the call (waiting, running late, a dropped connection) to COMPLETED", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/demo/demo.ts"], {
      cwd: fileURLToPath(new URL("../../", import.meta.url)),
      // A fast step (the default is a person's pace, 20 s).
      env: { ...process.env, PORT: "0", DEMO_STEP_SECONDS: "0.3", DEMO_EXIT_WHEN_DONE: "1", DATABASE_URL: "", TEST_DATABASE_URL: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code, output).toBe(0);
    expect(output).toContain("STAND-IN on loopback, not the real 100ms");
    expect(output).toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard/);
    expect(output).toContain("one step every 0.3 s");
    expect(output).toMatch(/Doctor: +Bearer ey/);
    expect(output).toContain("'Patient waiting'");
    expect(output).toContain("running 10 min late");
    expect(output).toContain("The patient's connection dropped ('websocket closed'): RECONNECTING");
    expect(output).toContain("The patient is back");
    expect(output).toContain("The doctor wrote a prescription.");
    expect(output).toContain("COMPLETED");
  }, 90_000);
});
