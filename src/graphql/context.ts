import type { Authentication } from "../auth/authenticate.js";
import type { Viewer } from "../auth/viewer.js";
import type { Services } from "../services.js";
import type { Loaders } from "../loaders.js";

/** What every resolver receives; built once per HTTP request (per event on WebSocket). */
export interface GraphQLContext {
  requestId: string;
  clientIp: string | null;
  auth: Authentication;
  services: Services;
  loaders: Loaders;
  /** Patient data this request returned: consultation id -> patient id (audited once each). */
  reads: Map<string, string>;
  /**
   * A resume point the transport itself carried (SSE's `Last-Event-ID` header): a stream
   * resumes after it, ahead of its `after` argument, which a reconnecting client repeats as
   * first sent.
   */
  lastEventId?: string | null;
}

export function createContext(input: {
  requestId: string;
  clientIp: string | null;
  auth: Authentication;
  services: Services;
  lastEventId?: string | null;
}): GraphQLContext {
  return { ...input, loaders: input.services.loaders(), reads: new Map() };
}

/** The signed-in caller, or the request's authentication error (UNAUTHENTICATED). */
export function requireViewer(context: GraphQLContext): Viewer {
  if (context.auth.viewer) return context.auth.viewer;
  throw context.auth.error;
}

/** Notes that this request returns a consultation (and so its patient's data). */
export function recordRead(context: GraphQLContext, consultation: { id: string; patientId: string }): void {
  context.reads.set(consultation.id, consultation.patientId);
}
