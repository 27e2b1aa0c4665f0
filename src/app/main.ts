/** Process entry point: `npm start`. */
import "reflect-metadata";
import { startApi } from "./app.js";
import { loadConfig } from "../config/config.js";
import { loadEnvFileOrExit } from "../config/env-file.js";
import { createLogger } from "../kit/logger.js";
import { describeStartFailure } from "../config/start-failure.js";
import { startTracing } from "./tracing.js";

const envFile = loadEnvFileOrExit();
const config = loadConfig();
const logger = createLogger(config.logLevel);
if (envFile.read) logger.info({ file: envFile.file }, "settings read from the env file (the environment's own values win)");

// After the env file: OTEL_* may come from it. Off (null) unless an OTLP endpoint is set.
const tracing = await startTracing();
if (tracing) logger.info({ instanceId: tracing.instanceId }, "tracing on: spans are exported over OTLP");

let api;
try {
  api = await startApi(config, logger, { tracing });
} catch (error) {
  const { name, code } = error as Error & { code?: unknown };
  logger.fatal({ errorClass: name, code }, `failed to start: ${describeStartFailure(error, config)}`);
  process.exit(1);
}
if (api.demoBanner) process.stdout.write(api.demoBanner + "\n");

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    // A backstop: if draining hangs past the grace period, exit anyway.
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 5000).unref();
    api.stop().then(
      () => Promise.resolve(tracing?.shutdown()).then(() => process.exit(0)),
      (error: Error) => {
        logger.error({ errorClass: error.name }, "error during shutdown");
        process.exit(1);
      },
    );
  });
}
