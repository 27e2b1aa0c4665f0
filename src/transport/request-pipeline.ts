/**
 * The one request pipeline. GraphQL reaches the API four ways (HTTP through Apollo, graphql-ws,
 * the legacy subscriptions-transport-ws protocol, Server-Sent Events); each hands what it
 * decoded to this module, which
 *
 * - identifies the caller (`identify`): the token verified, the users row read; a request
 *   without a valid token spends its IP's anonymous budget (RATE_LIMITED past it);
 * - admits (`admit`, `Connection.hold`): a user past the minute's budget of refused attempts
 *   is RATE_LIMITED; sockets and streams hold one of the user's slots until they close;
 * - checks the document (`checkRequest` for the sockets; the same rules, operation check and
 *   plugins for Apollo): parse limits, graphql's rules plus our limits and production rules,
 *   variables' depth, cost;
 * - executes with one context shape (`context`) and audits what the operation read (`finish`);
 * - maps every refusal to one GraphQLError (`refusal`), whose code each transport turns into
 *   its own status or close code (`refusalStatus`, `refusalCloseCode`).
 *
 * A fault on our side (the database, the rate-limit store, the key set unreachable) is never
 * an authentication verdict: it becomes INTERNAL_SERVER_ERROR (HTTP 503, close 4500).
 * Transports own framing, keep-alive, close codes and backpressure, nothing else.
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { ApolloServerPlugin } from "@apollo/server";
import { GraphQLError, type ExecutionArgs, type GraphQLSchema } from "graphql";
import { readsEntry, type Actor } from "../audit/audit.model.js";
import { authenticate, type Authentication } from "../auth/authenticate.js";
import type { TokenVerifier } from "../auth/token-verifier.js";
import { AppError } from "../kit/errors.js";
import type { Logger } from "../kit/logger.js";
import type { Services } from "../app/services.js";
import { createContext, type GraphQLContext } from "../graphql/context.js";
import { operationLimitPlugin, type QueryLimits } from "./limits.js";
import { createRequestCheck, type RequestCheck } from "./request-check.js";
import { operationSpanPlugin } from "./operation-tracing.js";
import { Connection, Slots } from "./connection-slots.js";

export { Connection } from "./connection-slots.js";

export type RefusalCode = "UNAUTHENTICATED" | "RATE_LIMITED" | "INTERNAL_SERVER_ERROR";

/** How each transport says a refusal: an HTTP status (HTTP, SSE) and a WebSocket close code. */
const REFUSALS: Record<RefusalCode, { status: number; close: number }> = {
  UNAUTHENTICATED: { status: 401, close: 4403 },
  RATE_LIMITED: { status: 429, close: 4429 },
  INTERNAL_SERVER_ERROR: { status: 503, close: 4500 },
};

/** A request refused before anything ran. `retryAfterSeconds` goes with RATE_LIMITED. */
export function refusal(code: RefusalCode, message: string, retryAfterSeconds?: number): GraphQLError {
  const retry = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
  return new GraphQLError(message, { extensions: { code, ...retry, http: { status: REFUSALS[code].status } } });
}

export function refusalStatus(error: GraphQLError): number {
  return REFUSALS[error.extensions.code as RefusalCode]?.status ?? 500;
}

export function refusalCloseCode(error: GraphQLError): number {
  return REFUSALS[error.extensions.code as RefusalCode]?.close ?? 4500;
}

/** Our own fault, said the same way everywhere; the cause is logged by class only. */
const fault = () => refusal("INTERNAL_SERVER_ERROR", "Service unavailable, retry shortly");

export interface PipelineOptions {
  schema: GraphQLSchema;
  services: Services;
  verifyToken: TokenVerifier;
  limits: QueryLimits;
  isProduction: boolean;
  logger: Logger;
  /** Open sockets (both WebSocket protocols together) and SSE streams one user may hold. */
  slots: { socket: number; stream: number };
}

/** What a transport knows of one request before the pipeline runs. */
export interface RequestFacts {
  /** The Authorization value as sent (header, or a socket's connection payload). */
  authorization: string | null | undefined;
  clientIp: string | null;
  requestId?: string | undefined;
  /** SSE's Last-Event-ID header. */
  lastEventId?: string | null;
}

export interface OperationParams {
  query: string;
  operationName?: string | null | undefined;
  variables?: Record<string, unknown> | null | undefined;
}

export type ConnectionKind = keyof PipelineOptions["slots"];

export class RequestPipeline {
  readonly checkRequest: RequestCheck;
  readonly #slots: Record<ConnectionKind, Slots>;

  constructor(private readonly options: PipelineOptions) {
    this.checkRequest = createRequestCheck(options.limits, options.isProduction);
    this.#slots = { socket: new Slots(options.slots.socket), stream: new Slots(options.slots.stream) };
  }

  /**
   * The caller behind an Authorization value. Without a valid token the attempt spends the
   * IP's anonymous budget and resolves unauthenticated; past the budget, or on a fault, it
   * throws a refusal (RATE_LIMITED, INTERNAL_SERVER_ERROR).
   */
  async identify(facts: RequestFacts): Promise<Authentication> {
    const { services, verifyToken } = this.options;
    const auth = await this.#guard("identify", () => authenticate(facts.authorization, verifyToken, services.findViewer));
    if (!auth.viewer) await this.anonymousAttempt(facts.clientIp);
    return auth;
  }

  /** One attempt without a valid token (also a socket gone before `connection_init`). */
  async anonymousAttempt(clientIp: string | null): Promise<void> {
    const decision = await this.#guard("anonymous budget", () => this.options.services.rateLimits.anonymous(clientIp));
    if (!decision.allowed) throw refusal("RATE_LIMITED", "Too many requests", decision.retryAfterSeconds);
  }

  /** Admits one operation of this caller: RATE_LIMITED past the minute's budget of refused attempts. */
  async admit(auth: Authentication): Promise<void> {
    if (!auth.viewer) return;
    const userId = auth.viewer.userId;
    await this.#guard("denial budget", () => this.options.services.rateLimits.admitAfterDenials(userId));
  }

  /** A socket or stream: holds one of its user's slots from `hold` until `close`. */
  connection(kind: ConnectionKind): Connection {
    return new Connection(this.#slots[kind]);
  }

  /** Slots held now, of every user (tests and metrics: 0 once every socket and stream closed). */
  slotsHeld(kind: ConnectionKind): number {
    return this.#slots[kind].total;
  }

  /** The context of one operation, whichever transport carried it. */
  context(facts: RequestFacts, auth: Authentication): GraphQLContext {
    return createContext({
      requestId: facts.requestId ?? randomUUID(),
      clientIp: facts.clientIp,
      auth,
      services: this.options.services,
      lastEventId: facts.lastEventId ?? null,
    });
  }

  /**
   * Everything before execution, for an operation on a socket or a stream: the caller (again:
   * a token may expire or a user lose a role while its socket stays open), admission, the
   * document check. Resolves with the arguments to execute, or the errors to answer with;
   * rejects with a refusal on a fault.
   */
  async prepare(facts: RequestFacts, params: OperationParams, known?: Authentication): Promise<ExecutionArgs | readonly GraphQLError[]> {
    const auth = known ?? (await this.identify(facts));
    try {
      await this.admit(auth);
    } catch (error) {
      if (error instanceof GraphQLError && error.extensions.code === "RATE_LIMITED") return [error];
      throw error;
    }
    const { schema } = this.options;
    const variableValues = params.variables ?? {};
    const document = this.checkRequest(schema, params.query, params.operationName, variableValues);
    if (Array.isArray(document)) return document;
    return { schema, document, operationName: params.operationName ?? null, variableValues, contextValue: this.context(facts, auth) };
  }

  /** Once an operation's result is on its way: one audit record of every consultation it read. */
  finish(context: GraphQLContext): void {
    const viewer = context.auth.viewer;
    if (!viewer || context.reads.size === 0) return;
    const actor: Actor = { userId: viewer.userId, role: viewer.role, requestId: context.requestId, clientIp: context.clientIp };
    context.services.audit.enqueue(readsEntry(actor, context.reads));
  }

  /** The context of an HTTP request (Apollo, both routes): identified and admitted, or a thrown refusal. */
  async httpContext(request: { headers: IncomingHttpHeaders; clientIp: string | null; setHeader: (name: string, value: string) => void }): Promise<GraphQLContext> {
    const requestId = requestIdFrom(request.headers["x-request-id"]);
    request.setHeader("x-request-id", requestId);
    const facts = { authorization: request.headers.authorization, clientIp: request.clientIp, requestId };
    try {
      const auth = await this.identify(facts);
      await this.admit(auth);
      return this.context(facts, auth);
    } catch (error) {
      const retryAfter = (error as GraphQLError).extensions?.retryAfterSeconds;
      if (retryAfter !== undefined) request.setHeader("retry-after", String(retryAfter));
      throw error;
    }
  }

  /** The same operation rules and audit for Apollo's HTTP pipeline. */
  apolloPlugins(): ApolloServerPlugin<GraphQLContext>[] {
    const finish = (context: GraphQLContext) => this.finish(context);
    return [
      operationSpanPlugin(),
      operationLimitPlugin(this.options.limits, this.options.isProduction),
      { requestDidStart: async () => ({ willSendResponse: async ({ contextValue }) => finish(contextValue) }) },
    ];
  }

  /** Runs a step; an AppError (RATE_LIMITED) becomes its refusal, anything else a logged fault. */
  async #guard<T>(step: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof GraphQLError) throw error;
      if (error instanceof AppError && error.code === "RATE_LIMITED") {
        throw refusal("RATE_LIMITED", error.message, error.details.retryAfterSeconds as number);
      }
      this.options.logger.error({ step, errorClass: (error as Error).name, dbCode: (error as { code?: unknown }).code }, "request refused: fault on our side");
      throw fault();
    }
  }
}

/** A client-supplied request id is kept when it is short and plain; otherwise a new one. */
function requestIdFrom(given: string | string[] | undefined): string {
  return typeof given === "string" && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
}
