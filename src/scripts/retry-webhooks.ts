/**
 * `npm run webhooks:retry`: gives the inbox's dead letters (acknowledged webhooks that failed to
 * apply 10 times, `hms_webhooks_dead_letters`) their attempts back. Every running instance's
 * queue applies them at its next backlog pass (its own retry after a failure, a restart, or the
 * reconciler). Run it once the cause is fixed; it prints how many it gave back and the inbox's
 * health. Reads DATABASE_URL (or the embedded database) like `npm run db:migrate`.
 */
import { loadEnvFileOrExit } from "../config/env-file.js";
import { openDatabase } from "../db/client.js";
import { InboxRepo } from "../webhooks/inbox.repo.js";

loadEnvFileOrExit();

const url = process.env.DATABASE_URL?.trim() || undefined;
const database = await openDatabase({ url, dataDir: process.env.EMBEDDED_DATA_DIR ?? "./.data" });
try {
  const inbox = new InboxRepo(database.db);
  const given = await inbox.retryDeadLetters();
  const health = await inbox.health();
  process.stdout.write(`${given} dead letter(s) given back for retry; oldest unapplied: ${Math.round(health.oldestUnappliedSeconds)} s.\n`);
} finally {
  await database.close();
}
