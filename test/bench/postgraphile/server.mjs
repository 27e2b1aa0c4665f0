/**
 * The bench's peer (scenario 12): PostGraphile 5 with the amber preset over the bench's
 * database, in its own process, as a user who did not pick the API would run it.
 *
 *   POST /graphql   PostGraphile (grafserv's node adaptor), bearer token verified with jose
 *   GET  /healthz   200 once the schema is built
 *
 * Auth as PostGraphile's JWT guide recommends: the server verifies the token (the same HS256
 * tokens the API accepts, AUTH_JWT_SECRET) and hands PostgreSQL its claims through
 * `pgSettings`: `role` (→ `set local role`) and `jwt.claims.user_id` (the token's `sub`), which
 * setup.sql's row-level security policies read. No token, or a bad one: the request runs as
 * the connection's own role, which may read nothing.
 *
 * Environment: BENCH_DATABASE_URL (the authenticator's connection string), BENCH_PORT,
 * BENCH_PG_ROLE (the role requests run as), BENCH_POOL_MAX (the API's DATABASE_POOL_MAX),
 * AUTH_JWT_SECRET. Runs with NODE_ENV=production, like the API.
 */
import "./node20.mjs";
import { createServer } from "node:http";
import { jwtVerify } from "jose";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { addPgTableOrderBy, orderByAscDesc } from "postgraphile/utils";

const port = Number(process.env.BENCH_PORT);
const role = process.env.BENCH_PG_ROLE;
const poolMax = Number(process.env.BENCH_POOL_MAX ?? 10);
const authKey = new TextEncoder().encode(process.env.AUTH_JWT_SECRET ?? "");

/** The verified subject of the request's bearer token, else null. */
async function subjectOf(authorization) {
  const match = /^Bearer (.+)$/.exec(authorization ?? "");
  if (!match) return null;
  try {
    const { payload } = await jwtVerify(match[1], authKey, { algorithms: ["HS256"] });
    return typeof payload.sub === "string" ? payload.sub : null;
  } catch {
    return null;
  }
}

/**
 * `orderBy: SCHEDULED_AT_ASC` on video consultations: by their appointment's time, as the API
 * orders `consultations` (then ROW_ID_ASC, the id). PostGraphile's documented way to order by
 * another table's column: an inline subquery.
 */
const OrderByScheduledAtPlugin = addPgTableOrderBy({ schemaName: "public", tableName: "video_consultations" }, (build) => {
  const { sql } = build;
  const { TYPES } = build.dataplanPg;
  const appointment = sql.identifier(Symbol("appointment"));
  return orderByAscDesc("SCHEDULED_AT", (queryBuilder) => ({
    fragment: sql`(select ${appointment}.scheduled_at from public.appointments as ${appointment} where ${appointment}.id = ${queryBuilder.alias}.appointment_id)`,
    codec: TYPES.timestamptz,
  }));
});

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  plugins: [OrderByScheduledAtPlugin],
  pgServices: [
    makePgService({
      connectionString: process.env.BENCH_DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: poolMax },
    }),
  ],
  grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: {
    explain: false,
    async context(requestContext) {
      const sub = await subjectOf(requestContext.node?.req?.headers.authorization);
      return { pgSettings: sub ? { role, "jwt.claims.user_id": sub } : {} };
    },
  },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
// Build the schema before answering /healthz: the bench measures requests, not start-up.
await pgl.getSchema();

// grafserv's handler for everything but /healthz (addTo would also answer /healthz, with a 404).
const graphql = serv.createHandler();
const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
  else void graphql(req, res);
});
server.listen(port, "127.0.0.1");

process.on("SIGTERM", () => {
  server.close();
  void Promise.resolve(pgl.release()).finally(() => process.exit(0));
});
