/** Runs the real entry point (`src/app/main.ts` under tsx) as a child process, as `npm start` does. */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface ApiProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when stdout+stderr match, rejects on exit or after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnApi(env: Record<string, string | undefined>): ApiProcess {
  const clean = { ...process.env };
  for (const key of Object.keys(clean)) {
    if (/^(DATABASE_URL|TEST_DATABASE_URL|AUTH_|HMS_|NODE_ENV|PORT|EMBEDDED_DATA_DIR|VITEST)/.test(key)) delete clean[key];
  }
  const child = spawn(process.execPath, ["--import", "tsx", "src/app/main.ts"], {
    cwd: ROOT,
    // ENV_FILE empty: a developer's .env in the project root must not reach these tests.
    env: { ...clean, LOG_LEVEL: "info", ENV_FILE: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    for (const listener of listeners) listener();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        void exited.then((code) => {
          if (!listeners.has(check)) return;
          cleanup();
          reject(new Error(`process exited (${code}) before ${pattern}; output:\n${output}`));
        });
        listeners.add(check);
        check();
      }),
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
