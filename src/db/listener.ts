/**
 * LISTEN on PostgreSQL with a heartbeat. postgres.js's own `listen` keeps one connection and
 * LISTENs again only when its socket closes: behind a silent partition, or a NAT or firewall
 * that forgot the connection, the socket stays open and hears nothing until TCP gives up
 * (hours), and every instance falls back to its slow safety poll. Here the listener notifies
 * itself on its own connection every `heartbeatMs` and expects the notification back: after
 * `missedBeats` unanswered, the connection is dropped without waiting for it, a new one LISTENs
 * on every channel, and every subscriber's onListen runs so that it reads from its own cursor
 * (notifications sent meanwhile are lost). One warn line says so each time.
 */
import { randomBytes } from "node:crypto";
import { withTimeout } from "../kit/timeout.js";

/** How often a listener checks its connection unless told otherwise (DATABASE_LISTEN_HEARTBEAT_MS). */
export const LISTEN_HEARTBEAT_MS = 2_000;

/** What the listener needs of a connection: statements, and a way to drop it at once. */
export interface ListenConnection {
  run(text: string, params?: string[]): Promise<unknown>;
  /** Ends the connection without waiting for a socket that may never answer. */
  drop(): void;
}

export interface ConnectionEvents {
  onNotify(channel: string, payload: string): void;
  /** The socket closed (reset, server restart): the LISTENs are gone with it. */
  onClose(): void;
}

export type OpenConnection = (events: ConnectionEvents) => ListenConnection;

export interface ListenerOptions {
  open: OpenConnection;
  heartbeatMs?: number | undefined;
  /** Beats sent without their notification back before the connection counts as dead. */
  missedBeats?: number;
  /** Longest wait for a new connection to LISTEN on every channel before it is given up. */
  attemptMs?: number;
  warn?: ((fields: Record<string, unknown>, message: string) => void) | undefined;
}

interface Subscriber {
  onNotify(payload: string): void;
  onListen(): void;
  /** The link whose LISTEN this subscriber's onListen last ran for. */
  heardOn: number;
}

/** One connection: the channels it LISTENs on, and its heartbeats sent and heard back. */
interface Link { id: number; connection: ListenConnection; listening: Set<string>; sent: number; heard: number }

/** One connection LISTENing on every channel of its subscribers, replaced whenever it dies. */
export class Listener {
  readonly #channels = new Map<string, Set<Subscriber>>();
  /** Unique to this listener: another process's heartbeats never reach it. */
  readonly #beat = `listen_heartbeat_${randomBytes(8).toString("hex")}`;
  readonly #heartbeatMs: number;
  readonly #missedBeats: number;
  readonly #attemptMs: number;
  #link: Link | null = null;
  #attempt: Promise<Link> | null = null;
  #links = 0;
  #timer: NodeJS.Timeout | null = null;
  /** A connection was established since the listener started: later failures are retried, not thrown. */
  #up = false;
  #lost: { at: number; reason: string } | null = null;
  #closed = false;

  constructor(private readonly options: ListenerOptions) {
    this.#heartbeatMs = options.heartbeatMs ?? LISTEN_HEARTBEAT_MS;
    this.#missedBeats = options.missedBeats ?? 2;
    this.#attemptMs = options.attemptMs ?? 10_000;
  }

  /**
   * LISTENs on `channel`; `onListen` runs once the channel is LISTENed, and again after every
   * new connection. Rejects only when no connection could be made at all (the database is
   * unreachable at start); during an outage it resolves, and onListen runs once it is back.
   */
  async listen(channel: string, onNotify: (payload: string) => void, onListen: () => void): Promise<{ unlisten(): Promise<void> }> {
    if (this.#closed) throw new Error("the database is closed");
    const subscriber: Subscriber = { onNotify, onListen, heardOn: 0 };
    const set = this.#channels.get(channel) ?? new Set<Subscriber>();
    this.#channels.set(channel, set.add(subscriber));
    const unlisten = () => this.#unlisten(channel, subscriber);
    try {
      const link = this.#link ?? (await (this.#attempt ?? this.#restore()));
      await this.#sync(link);
    } catch (error) {
      if (!this.#up) {
        await unlisten();
        throw error;
      }
      // An outage: the next connection LISTENs on this channel too, then runs onListen.
    }
    return { unlisten };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stop();
    await this.#attempt?.catch(() => undefined);
  }

  async #unlisten(channel: string, subscriber: Subscriber): Promise<void> {
    const set = this.#channels.get(channel);
    if (!set?.delete(subscriber) || set.size > 0) return;
    this.#channels.delete(channel);
    if (this.#channels.size === 0) return this.#stop();
    const link = this.#link;
    if (!link?.listening.delete(channel)) return;
    await withTimeout(link.connection.run(`unlisten ${quoted(channel)}`), this.#attemptMs).catch(() => undefined);
  }

  /** Drops the connection and the heartbeat; a later listen starts both again. */
  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const link = this.#link;
    this.#link = null;
    link?.connection.drop();
    this.#up = false;
    this.#lost = null;
  }

  /** Replaces the connection (at most one attempt at a time); resolves once it LISTENs on every channel. */
  #restore(): Promise<Link> {
    this.#attempt ??= this.#connect().finally(() => (this.#attempt = null));
    return this.#attempt;
  }

  async #connect(): Promise<Link> {
    const old = this.#link;
    this.#link = null;
    old?.connection.drop();
    const link: Link = {
      id: ++this.#links,
      listening: new Set(),
      sent: 0,
      heard: 0,
      connection: this.options.open({
        onNotify: (channel, payload) => this.#notified(link, channel, payload),
        onClose: () => this.#lose(link, "closed"),
      }),
    };
    try {
      await withTimeout(link.connection.run(`listen ${quoted(this.#beat)}`), this.#attemptMs);
      await this.#sync(link);
      if (this.#closed || this.#channels.size === 0) throw new Error("the listener stopped");
    } catch (error) {
      link.connection.drop();
      throw error;
    }
    this.#link = link;
    this.#up = true;
    this.#timer ??= setInterval(() => this.#tick(), this.#heartbeatMs).unref();
    if (this.#lost) this.options.warn?.({ channels: this.#channels.size, reason: this.#lost.reason, downMs: Date.now() - this.#lost.at }, "database LISTEN connection re-established; catching up from the event log");
    this.#lost = null;
    this.#listened(link);
    return link;
  }

  /** LISTENs `link` on every channel it does not listen on yet, then runs the onListen due. */
  async #sync(link: Link): Promise<void> {
    for (;;) {
      const missing = [...this.#channels.keys()].filter((channel) => !link.listening.has(channel));
      if (missing.length === 0) break;
      await withTimeout(Promise.all(missing.map((channel) => link.connection.run(`listen ${quoted(channel)}`))), this.#attemptMs);
      for (const channel of missing) link.listening.add(channel);
    }
    if (link === this.#link) this.#listened(link);
  }

  /** Each subscriber's onListen, once per connection, after its channel is LISTENed there. */
  #listened(link: Link): void {
    for (const [channel, subscribers] of this.#channels) {
      if (!link.listening.has(channel)) continue;
      for (const subscriber of subscribers) {
        if (subscriber.heardOn === link.id) continue;
        subscriber.heardOn = link.id;
        subscriber.onListen();
      }
    }
  }

  #notified(link: Link, channel: string, payload: string): void {
    if (channel !== this.#beat) {
      for (const subscriber of this.#channels.get(channel) ?? []) subscriber.onNotify(payload);
      return;
    }
    const [id, seq] = payload.split(":").map(Number);
    if (id === link.id && seq !== undefined) link.heard = Math.max(link.heard, seq);
  }

  /**
   * Counts beats, not time: after the event loop stalled, one late tick sees one beat more
   * outstanding, not a silence, and the notifications waiting in the socket are read next.
   */
  #tick(): void {
    if (this.#attempt) return; // bounded by attemptMs
    const link = this.#link;
    if (!link) {
      if (this.#lost) void this.#restore().catch(() => undefined);
      return;
    }
    if (link.sent - link.heard >= this.#missedBeats) return this.#lose(link, "heartbeat");
    link.sent++;
    link.connection.run("select pg_notify($1, $2)", [this.#beat, `${link.id}:${link.sent}`]).catch(() => undefined);
  }

  #lose(link: Link, reason: string): void {
    if (link !== this.#link || this.#closed) return;
    this.#lost = { at: Date.now(), reason };
    // Failing, the link stays null and the next tick tries again.
    void this.#restore().catch(() => undefined);
  }
}

function quoted(channel: string): string {
  return `"${channel.replace(/"/g, '""')}"`;
}
