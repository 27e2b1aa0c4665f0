/**
 * GraphQL operations as spans (docs/tracing.md), on every transport: a server span named
 * `{type} {name}` as OpenTelemetry's GraphQL conventions say (`query MyConsultations`), with
 * `graphql.operation.type` and `graphql.operation.name`, never the document or its variables.
 * Statements and 100ms calls made for the operation are its children.
 *
 * Over HTTP the span covers the whole request (Apollo's context builder included) and is
 * named by `operationSpanPlugin` once Apollo has resolved the operation; over graphql-ws, the
 * legacy protocol and SSE it wraps the execution (a subscription's: setting up its stream;
 * the frames it pushes are spans of the events' traces, live/event-tracing.ts). Every
 * request starts a new trace: a client's `traceparent` header is not continued.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import type { RequestHandler } from "express";
import { getOperationAST, type ExecutionArgs } from "graphql";
import { inSpan, markFailed, recordingSpan, SpanKind, tracingEnabled, type Span } from "../kit/tracing.js";

/** Runs one HTTP GraphQL request in its span (named by the plugin below once the operation is known). */
export function httpOperationSpan<T>(method: string, run: (span: Span | null) => Promise<T>): Promise<T> {
  const attributes = () => ({ "http.request.method": method, "http.route": "/graphql" });
  return inSpan(`${method} /graphql`, run, { kind: SpanKind.SERVER, parent: null, attributes });
}

/** An Express handler run in an HTTP operation span that ends when its response is done. */
export function tracedHandler(handler: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (!tracingEnabled()) return handler(req, res, next);
    void httpOperationSpan(req.method, (span) =>
      new Promise<void>((resolve) => {
        res.once("close", () => (span?.setAttribute("http.response.status_code", res.statusCode), resolve()));
        void handler(req, res, next);
      }),
    );
  };
}

function nameSpan(span: Span, type: string, name: string | null | undefined): void {
  span.updateName(name ? `${type} ${name}` : type);
  span.setAttribute("graphql.operation.type", type);
  if (name) span.setAttribute("graphql.operation.name", name);
}

/** Names Apollo's request span by its operation and marks it failed when the answer has errors. */
export function operationSpanPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const span = recordingSpan();
      if (!span) return;
      return {
        async didResolveOperation({ operation, operationName }) {
          if (operation) nameSpan(span, operation.operation, operationName ?? operation.name?.value);
        },
        async willSendResponse({ response }) {
          const body = response.body;
          if (body.kind === "single" && (body.singleResult.errors?.length ?? 0) > 0) markFailed(span, "GraphQLError");
        },
      };
    },
  };
}

/** Runs a socket or stream operation's execution (or a subscription's set-up) in its span. */
export function socketOperationSpan<T>(args: ExecutionArgs, run: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return run();
  return inSpan("graphql", async (span) => {
    const operation = getOperationAST(args.document, args.operationName);
    if (span && operation) nameSpan(span, operation.operation, args.operationName ?? operation.name?.value);
    return run();
  }, { kind: SpanKind.SERVER, parent: null });
}
