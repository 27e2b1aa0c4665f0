/**
 * POST /graphql in front of Express, for the plain case: a JSON body of known length from a
 * client that is not a browser on another origin (no `Origin` header: mobile apps, servers,
 * partners' backends), skipping Express's routing, body parsing and CORS (their cost is in
 * the README's benchmark section). The request goes to the same Apollo server with the same context,
 * client IP (Express's own `trust proxy` function) and answers, including the body-parser
 * errors Express would give; anything else (browsers with CORS, other content types or
 * encodings, chunked bodies, GET) falls through to the Express route.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HeaderMap, type ApolloServer, type BaseContext } from "@apollo/server";
import proxyAddr from "proxy-addr";
import { logRequest, readBody, sendJson } from "../http/kit.js";
import type { Logger } from "../kit/logger.js";
import { httpOperationSpan } from "./operation-tracing.js";

export const GRAPHQL_PATH = "/graphql";
export const MAX_GRAPHQL_BODY_BYTES = 100 * 1024;

export interface GraphqlFastPathOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  /** The same context builder as the Express route's. */
  context: (request: { headers: IncomingMessage["headers"]; clientIp: string | null; setHeader: (name: string, value: string) => void }) => Promise<TContext>;
  /** Express's compiled `trust proxy` function (`app.get("trust proxy fn")`). */
  trustProxy: (address: string, hop: number) => boolean;
  logger: Logger;
}

/** Returns false, having consumed nothing, for a request it leaves to Express. */
export function graphqlFastPath<TContext extends BaseContext>(options: GraphqlFastPathOptions<TContext>) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "POST" || req.url !== GRAPHQL_PATH) return false;
    const { headers } = req;
    const length = Number(headers["content-length"]);
    if (headers.origin !== undefined || headers["content-encoding"] !== undefined || headers["transfer-encoding"] !== undefined) return false;
    if (!isPlainJson(headers["content-type"]) || !(length > 0 && length <= MAX_GRAPHQL_BODY_BYTES)) return false;
    const started = performance.now();
    readBody(req, MAX_GRAPHQL_BODY_BYTES)
      .then(async (read) => {
        if (!read.ok) return sendJson(res, read.status, read.status === 413 ? TOO_LARGE : BAD_REQUEST);
        const body = parseStrictJson(read.body.toString("utf8"));
        if (body === undefined) return sendJson(res, 400, BAD_JSON);
        const httpGraphQLRequest = { method: "POST", headers: headerMap(headers), search: "", body };
        const clientIp = proxyAddr(req, options.trustProxy) ?? null;
        const response = await httpOperationSpan("POST", async (span) => {
          const answer = await options.apollo.executeHTTPGraphQLRequest({
            httpGraphQLRequest,
            context: () => options.context({ headers, clientIp, setHeader: (name, value) => res.setHeader(name, value) }),
          });
          span?.setAttribute("http.response.status_code", answer.status ?? 200);
          return answer;
        });
        const out: Record<string, string> = {};
        for (const [key, value] of response.headers) out[key] = value;
        if (response.body.kind === "complete") return send(res, response.status ?? 200, out, response.body.string);
        res.writeHead(response.status ?? 200, out);
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      })
      .catch((error: Error) => {
        options.logger.error({ errorClass: error.name }, "unhandled HTTP error");
        if (!res.headersSent) sendJson(res, 500, INTERNAL);
        else res.destroy();
      })
      .finally(() => logRequest(options.logger, { method: "POST", path: GRAPHQL_PATH, requestId: res.getHeader("x-request-id") }, res.statusCode, started));
    return true;
  };
}

const BAD_JSON = JSON.stringify({ errors: [{ message: "Request body is not valid JSON", extensions: { code: "BAD_REQUEST" } }] });
const INTERNAL = JSON.stringify({ errors: [{ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] });
const TOO_LARGE = JSON.stringify({ errors: [{ message: "Request body too large", extensions: { code: "BAD_REQUEST" } }] });
const BAD_REQUEST = JSON.stringify({ errors: [{ message: "Bad request", extensions: { code: "BAD_REQUEST" } }] });

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
}

/** `application/json`, with no charset or UTF-8 (what express.json() decodes without iconv). */
function isPlainJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.toLowerCase().split(";").map((p) => p.trim());
  if (type !== "application/json") return false;
  return params.every((p) => p === "charset=utf-8" || p === "");
}

/** express.json() is strict: only an object or an array at the top. undefined = not valid. */
function parseStrictJson(text: string): unknown {
  const first = /\S/.exec(text)?.[0];
  if (first !== "{" && first !== "[") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function headerMap(headers: IncomingMessage["headers"]): HeaderMap {
  const map = new HeaderMap();
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) map.set(key, Array.isArray(value) ? value.join(", ") : value);
  }
  return map;
}
