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
}

export function createContext(input: {
  requestId: string;
  clientIp: string | null;
  auth: Authentication;
  services: Services;
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
