/**
 * The connections the listener (listener.ts) LISTENs on: a postgres.js client of one
 * connection each, so that a dead one is dropped whole and the next starts clean.
 */
import postgres from "postgres";
import type { OpenConnection } from "./listener.js";

/** The LISTEN connections' application_name (unless the URL names one): what operators see in pg_stat_activity. */
export const LISTEN_APPLICATION_NAME = "consultation-api listen";

/** A postgres.js client of one connection per listener connection, so that it can be dropped whole. */
export function postgresListenConnection(url: string): OpenConnection {
  return ({ onNotify, onClose }) => {
    // `onnotify` is the hook postgres.js's own listen uses; its types leave it out.
    const options = {
      max: 1,
      // Never retired for its age (postgres.js's default: 30–60 min), which would drop its LISTENs.
      max_lifetime: null,
      fetch_types: false,
      connect_timeout: 10,
      ...(new URL(url).searchParams.has("application_name") ? {} : { connection: { application_name: LISTEN_APPLICATION_NAME } }),
      onnotice: () => {},
      onnotify: onNotify,
      onclose: onClose,
    };
    const sql = postgres(url, options);
    return {
      run: (text, params) => sql.unsafe(text, params).then(() => undefined),
      // timeout 0: the socket is destroyed at once; a dead peer is never waited for.
      drop: () => void sql.end({ timeout: 0 }).catch(() => undefined),
    };
  };
}
