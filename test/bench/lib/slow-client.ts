/**
 * Load-generator side of the slow consumer (scenario 9): one socket that subscribes and
 * then stops reading its TCP socket, and later reads again, sees how the server closed it,
 * and resumes with `after` = the last event id it got.
 */
import { GqlWsSocket } from "./gqlws-client.js";

interface SlowClient {
  socket: GqlWsSocket;
  url: string;
  token: string;
  query: string;
  /** The cursor it first subscribed with. */
  after: string | null;
  ids: string[];
  seen: Set<string>;
  duplicates: number;
  errors: string[];
}

export interface SlowReport {
  /** How the server closed the paused socket (null: still open when it read again). */
  closeCode: number | null;
  /** Frames read from the paused socket once it read again (before its close). */
  beforeClose: number;
  /** Frames of the resumed subscription. */
  afterResume: number;
  /** Every distinct event id received, in order. */
  ids: string[];
  duplicates: number;
  errors: string[];
}

let slow: SlowClient | null = null;

function subscribe(client: SlowClient, after: string | null): void {
  client.socket.subscribe(client.query, after === null ? {} : { after }, (frame) => {
    if (frame.errors) client.errors.push(JSON.stringify(frame.errors).slice(0, 160));
    const event = frame.data ? (Object.values(frame.data)[0] as { id?: string } | undefined) : undefined;
    if (!event?.id) return;
    if (client.seen.has(event.id)) client.duplicates++;
    else {
      client.seen.add(event.id);
      client.ids.push(event.id);
    }
  });
}

const until = async (done: () => boolean, ms: number) => {
  for (const deadline = performance.now() + ms; !done() && performance.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
};

export const slowCommands = {
  /** Opens the socket, stops reading it, then subscribes (sending still works) with `after`. */
  slowOpen: async (args: { url: string; token: string; query: string; after: string | null }) => {
    const socket = await GqlWsSocket.open(args.url, args.token);
    slow = { socket, url: args.url, token: args.token, query: args.query, after: args.after, ids: [], seen: new Set(), duplicates: 0, errors: [] };
    socket.pause();
    subscribe(slow, args.after);
    return null;
  },

  /**
   * Reads again; waits (≤ closeWaitMs) for the close the server sent while it was paused, or
   * for `expected` events. If closed, reconnects and resumes with `after` = the last id read,
   * until `expected` distinct events arrived (≤ timeoutMs).
   */
  slowFinish: async (args: { expected: number; closeWaitMs: number; timeoutMs: number }): Promise<SlowReport> => {
    const client = slow;
    if (!client) throw new Error("no slow socket open");
    client.socket.resume();
    await until(() => client.socket.closedWith !== null || client.seen.size >= args.expected, args.closeWaitMs);
    const closeCode = client.socket.closedWith;
    const beforeClose = client.seen.size;
    if (closeCode !== null && client.seen.size < args.expected) {
      client.socket = await GqlWsSocket.open(client.url, client.token);
      subscribe(client, client.ids.at(-1) ?? client.after);
      await until(() => client.seen.size >= args.expected, args.timeoutMs);
    }
    client.socket.close();
    slow = null;
    return { closeCode, beforeClose, afterResume: client.seen.size - beforeClose, ids: client.ids, duplicates: client.duplicates, errors: client.errors.slice(0, 3) };
  },
};
