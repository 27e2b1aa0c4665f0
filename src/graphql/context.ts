import { rightsKey } from "../access/access-policy.js";
import type { Authentication } from "../auth/authenticate.js";
import type { Viewer } from "../auth/viewer.js";
import type { Services } from "../app/services.js";
import type { Loaders } from "../live/loaders.js";
import type { VisibleConsultations } from "../consultations/visible-consultations.js";

/** What every resolver receives; built once per HTTP request (once per subscription on WebSocket). */
export interface GraphQLContext {
  requestId: string;
  clientIp: string | null;
  auth: Authentication;
  services: Services;
  loaders: Loaders;
  /**
   * The consultations the signed-in caller may see, scoped once for the whole request (or
   * subscription): every use case acting for the caller reads through it (`requireVisible`);
   * null without a valid token. A plain value, not a getter: Apollo copies the context.
   */
  readonly visible: VisibleConsultations | null;
  /** Patient data this request returned: consultation id -> patient id (audited once each). */
  reads: Map<string, string>;
  /**
   * A resume point the transport itself carried (SSE's `Last-Event-ID` header): a stream
   * resumes after it, ahead of its `after` argument, which a reconnecting client repeats as
   * first sent.
   */
  lastEventId?: string | null;
  /**
   * The last event id this process had dispatched when the request began (`liveCursor`).
   * Every event up to it was committed before any of the request's reads, so the request
   * shows its effects; ids are the shared log's, so the position holds on every instance.
   */
  logPosition: number;
}

export function createContext(input: {
  requestId: string;
  clientIp: string | null;
  auth: Authentication;
  services: Services;
  lastEventId?: string | null;
}): GraphQLContext {
  return new RequestContext(input);
}

/**
 * The context as a class: its accessors live once on the prototype, where an object literal's
 * getter and setter were two closures (and the input they closed over) per context, which a
 * subscription keeps for as long as its socket is open. Its fields are plain properties, so a
 * copy (Apollo's `Object.assign(Object.create(prototype), context)`) behaves the same.
 */
class RequestContext implements GraphQLContext {
  readonly requestId: string;
  readonly clientIp: string | null;
  readonly auth: Authentication;
  readonly services: Services;
  readonly visible: VisibleConsultations | null;
  readonly lastEventId: string | null;
  readonly logPosition: number;
  /**
   * Loaders are made on first use: a subscription's context never uses its own (each event
   * brings loaders holding its data), and 5,000 idle sockets would hold 5,000 sets of them.
   */
  private ownLoaders: Loaders | undefined = undefined;
  /** Made on the first read recorded: a subscription records none. */
  private ownReads: Map<string, string> | undefined = undefined;

  constructor(input: Parameters<typeof createContext>[0]) {
    this.requestId = input.requestId;
    this.clientIp = input.clientIp;
    this.auth = input.auth;
    this.services = input.services;
    this.visible = input.auth.viewer ? input.services.visibleTo(input.auth.viewer) : null;
    this.lastEventId = input.lastEventId ?? null;
    this.logPosition = input.services.consultationEvents.logPosition();
  }

  get loaders(): Loaders {
    return (this.ownLoaders ??= this.services.loaders());
  }

  set loaders(value: Loaders) {
    this.ownLoaders = value;
  }

  get reads(): Map<string, string> {
    return (this.ownReads ??= new Map());
  }
}

/**
 * What resolution depends on in a context besides its loaders and services (the same for
 * every subscriber of an event): the viewer's rights (role and doctor/patient link, which
 * decide e.g. `attendance`) and `logPosition` (`liveCursor`). Subscriptions with equal keys
 * may share one event's result (shared-subscribe.ts); add here whatever a resolver starts
 * reading from the context.
 */
export function resolutionKey(context: GraphQLContext): string {
  const viewer = context.auth.viewer;
  return `${viewer ? rightsKey(viewer) : "anonymous"}:${context.logPosition}`;
}

/** The signed-in caller, or the request's authentication error (UNAUTHENTICATED). */
export function requireViewer(context: GraphQLContext): Viewer {
  if (context.auth.viewer) return context.auth.viewer;
  throw context.auth.error;
}

/** The caller's scoped view of the consultations, or the request's authentication error (UNAUTHENTICATED). */
export function requireVisible(context: GraphQLContext): VisibleConsultations {
  if (context.visible) return context.visible;
  throw context.auth.error;
}

/** Notes that this request returns a consultation (and so its patient's data). */
export function recordRead(context: GraphQLContext, consultation: { id: string; patientId: string }): void {
  context.reads.set(consultation.id, consultation.patientId);
}
