/**
 * SQL statements per operation, counted the way test/api/consultations.test.ts does: the API
 * started in-process on the bench database with openDatabase's `onQuery` counter
 * (pg_stat_statements is not loaded on this server). drizzle sees every statement except a
 * transaction's BEGIN and COMMIT. Prints one JSON line.
 *
 *   BENCH_MODE=dashboard  BENCH_USER_ID, BENCH_QUERY → { inRequest, background }
 *   BENCH_MODE=webhook    BENCH_USER_ID (the doctor), BENCH_WEBHOOKS (two patient webhooks
 *                         for that doctor's consultation), BENCH_SUBSCRIPTION
 *                         → { inRequest, toApply, toDeliver }: statements until the client has
 *                         the 200, then until the webhook queue is idle (applied), then until
 *                         the doctor's dashboard has the frame
 */
import "reflect-metadata";
import { startApi } from "../../src/app/app.js";
import { signAccessToken } from "../../src/auth/access-token.js";
import { parseConfig } from "../../src/config/config.js";
import { openDatabase } from "../../src/db/client.js";
import { createLogger } from "../../src/kit/logger.js";
import { GqlWsSocket } from "./lib/gqlws-client.js";

const need = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
let counting = false;
let statements = 0;
const database = await openDatabase({ url: need("BENCH_DATABASE_URL"), onQuery: () => void (counting && statements++) });
const parsed = parseConfig({
  NODE_ENV: "test",
  PORT: "0",
  LOG_LEVEL: "silent",
  AUTH_JWT_SECRET: need("AUTH_JWT_SECRET"),
  HMS_WEBHOOK_SECRET: need("HMS_WEBHOOK_SECRET"),
  RECONCILE_INTERVAL_SECONDS: "0",
  DATABASE_URL: need("BENCH_DATABASE_URL"),
  // The counter sees this process's pool only: apply on it (the statements are the same on the apply thread).
  WEBHOOK_APPLY: "inline",
});
if (!parsed.ok) throw new Error(parsed.errors.join("; "));
const api = await startApi(parsed.config, createLogger("silent"), { database });
const token = await signAccessToken(need("AUTH_JWT_SECRET"), need("BENCH_USER_ID"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const start = () => {
  statements = 0;
  counting = true;
};

let result: Record<string, number>;
if (need("BENCH_MODE") === "dashboard") {
  const post = async () => {
    const response = await fetch(`${api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: need("BENCH_QUERY") }),
    });
    const body = (await response.json()) as { errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
  };
  await post();
  await api.services.audit.flush();
  start();
  await post();
  const inRequest = statements;
  await api.services.audit.flush();
  result = { inRequest, background: statements - inRequest };
} else {
  const [warm, measured] = JSON.parse(need("BENCH_WEBHOOKS")) as [unknown, unknown];
  const socket = await GqlWsSocket.open(api.url.replace(/^http/, "ws") + "/graphql", token);
  let frames = 0;
  socket.subscribe(need("BENCH_SUBSCRIPTION"), {}, () => void frames++);
  await sleep(500);
  const post = async (body: unknown) => {
    const response = await fetch(`${api.url}/webhooks/100ms`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hms-webhook-secret": need("HMS_WEBHOOK_SECRET") },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!text.includes("accepted")) throw new Error(`webhook answered ${response.status} ${text}`);
  };
  const frameAfter = async (seen: number) => {
    for (let i = 0; i < 100 && frames <= seen; i++) await sleep(20);
    if (frames <= seen) throw new Error("no frame");
    await sleep(200);
  };
  await post(warm);
  await frameAfter(0);
  await api.services.audit.flush();
  start();
  await post(measured);
  const inRequest = statements;
  // Applied by the webhook queue after the 200 (the hub may start reading within this window).
  await api.services.webhooks.idle();
  const toApply = statements - inRequest;
  await frameAfter(1);
  result = { inRequest, toApply, toDeliver: statements - inRequest - toApply };
  socket.close();
}
counting = false;
await api.stop();
await database.close();
process.stdout.write(JSON.stringify(result) + "\n");
process.exit(0);
