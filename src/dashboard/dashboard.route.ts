/**
 * GET /dashboard: a small live dashboard for doctors and admins (static files; the
 * graphql-ws browser build is served beside them). Off in production unless DASHBOARD_ENABLED.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../paths.js";
import express, { type Router } from "express";

// From the project root, so compiled output (dist/) serves the same files.
const PUBLIC = join(PROJECT_ROOT, "src", "dashboard", "public");
const GRAPHQL_WS_UMD = join(dirname(createRequire(import.meta.url).resolve("graphql-ws/package.json")), "umd", "graphql-ws.min.js");

export function dashboardRouter(): Router {
  const router = express.Router();
  router.use("/dashboard", (_req, res, next) => {
    res.setHeader(
      "content-security-policy",
      "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; img-src 'self'; frame-ancestors 'none'",
    );
    next();
  });
  router.get("/dashboard/graphql-ws.js", (_req, res) => res.sendFile(GRAPHQL_WS_UMD));
  router.use("/dashboard", express.static(PUBLIC, { index: "index.html", maxAge: 0 }));
  return router;
}
