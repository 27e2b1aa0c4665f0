/**
 * The apply thread (see apply-worker.ts): opens a small pool of its own on the configured
 * PostgreSQL, builds what applying needs the way the services do (apply-services.ts), and
 * runs the webhook queue, starting with its backlog pass. It takes envelopes, retries and
 * idle questions from the main thread, and sends back what the queue reports, batched per
 * turn of its event loop, always ahead of the answer to an idle question (so a caller that
 * waited for idle sees the metrics of what it waited for).
 */
import { parentPort, workerData } from "node:worker_threads";
import { applySettings, createApplying, type ApplyReports } from "./apply-services.js";
import { openDatabase } from "../db/client.js";
import { createLogger } from "../kit/logger.js";
import { carry, spanContextOf } from "../kit/tracing.js";
import { startTracing } from "./tracing.js";
import type { ApplyThreadData, FromThread, ThreadReports, ToThread } from "./apply-worker.js";

/**
 * Per lane a batch's transaction and its rooms' read beside the BEGIN, plus a completion
 * timer's update or a backlog read: the queue never needs more, and each connection here is
 * one fewer for the main pool's server (postgres.js opens them only when needed).
 */
const poolMaxFor = (lanes: number) => 2 * lanes + 1;

const port = parentPort!;
const { config, logLevel, tracingInstanceId } = workerData as ApplyThreadData;
const tracing = tracingInstanceId ? await startTracing({ instanceId: tracingInstanceId, threadName: "webhook-apply" }) : null;
const send = (message: FromThread) => port.postMessage(message);
const logger = createLogger(logLevel, { write: (line: string) => send({ kind: "log", line }) });
const database = await openDatabase({ url: config.database.url, poolMax: Math.min(poolMaxFor(config.webhooks.applyLanes), config.database.poolMax), queryTimeoutMs: config.database.queryTimeoutMs });

let pending: ThreadReports = { outcomes: [], batches: [], hmsCalls: [] };
let flushQueued = false;
const flushSoon = () => {
  if (flushQueued) return;
  flushQueued = true;
  setImmediate(flush);
};
const reports: ApplyReports = {
  outcome: (type, outcome) => (pending.outcomes.push([type, outcome]), flushSoon()),
  batch: (size) => (pending.batches.push(size), flushSoon()),
  hmsCall: (call) => (pending.hmsCalls.push(call), flushSoon()),
};
const { live, queue } = createApplying(database, { ...applySettings(config), logger, reports });

function flush(): void {
  flushQueued = false;
  send({ kind: "reports", queued: queue.size, ...pending });
  pending = { outcomes: [], batches: [], hmsCalls: [] };
}

async function stop(): Promise<void> {
  await queue.stop();
  live.stop();
  await database.close();
  await tracing?.shutdown();
  flush();
  port.close();
}

port.on("message", (message: ToThread) => {
  switch (message.kind) {
    case "enqueue":
      carry(message.envelope, spanContextOf(message.traceparent));
      queue.enqueue(message.envelope);
      return flushSoon();
    case "retry":
      return void queue.retry(message.envelopes).then(
        (count) => (flush(), send({ kind: "retried", id: message.id, count })),
        () => send({ kind: "retried", id: message.id, count: 0 }),
      );
    case "idle":
      return void queue.idle().then(() => (flush(), send({ kind: "idle", id: message.id })));
    case "stop":
      return void stop().catch((error: Error) => {
        logger.error({ errorClass: error.name }, "webhook apply thread could not stop cleanly");
        port.close();
      });
  }
});
queue.start();
