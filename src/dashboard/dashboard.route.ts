/**
 * GET /dashboard: a small live dashboard for doctors and admins (static files; the
 * graphql-ws and graphql-sse browser builds are served beside them). Off in production unless DASHBOARD_ENABLED.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../kit/paths.js";
import express, { type Router } from "express";

// From the project root, so compiled output (dist/) serves the same files.
const PUBLIC = join(PROJECT_ROOT, "src", "dashboard", "public");
const umd = (name: string) => join(dirname(createRequire(import.meta.url).resolve(`${name}/package.json`)), "umd", `${name}.min.js`);
const GRAPHQL_WS_UMD = umd("graphql-ws");
const GRAPHQL_SSE_UMD = umd("graphql-sse");

export function dashboardRouter(): Router {
  const router = express.Router();
  router.use("/dashboard", (req, res, next) => {
    res.setHeader("content-security-policy", contentSecurityPolicy(req.headers.host));
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("referrer-policy", "no-referrer");
    next();
  });
  router.get("/dashboard/graphql-ws.js", (_req, res) => res.sendFile(GRAPHQL_WS_UMD));
  router.get("/dashboard/graphql-sse.js", (_req, res) => res.sendFile(GRAPHQL_SSE_UMD));
  router.use("/dashboard", express.static(PUBLIC, { index: "index.html", maxAge: 0 }));
  return router;
}

/**
 * The page talks only to its own origin: `'self'`, plus that origin's ws: and wss: (CSP Level 2
 * browsers do not count a WebSocket to the same host as `'self'`). A Host header that is not a
 * plain host[:port] gets `'self'` alone.
 */
export function contentSecurityPolicy(host: string | undefined): string {
  const sockets = host && /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i.test(host) ? ` ws://${host} wss://${host}` : "";
  return `default-src 'self'; connect-src 'self'${sockets}; style-src 'self'; script-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
}
