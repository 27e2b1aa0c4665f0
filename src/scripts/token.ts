/**
 * `npm run token -- <users.id> [--ttl 1h]`: prints a development bearer token for that user,
 * signed as the API verifies it: with AUTH_JWT_SECRET (and AUTH_ISSUER / AUTH_AUDIENCE when
 * set), or, on the embedded demo, with the secret kept in EMBEDDED_DATA_DIR. Reads .env like
 * `npm start`. Refused with NODE_ENV=production: production tokens come from the clinic's
 * identity provider. A token carries no role: the API reads it from the users row.
 */
import { parseArgs } from "node:util";
import { signAccessToken } from "../auth/access-token.js";
import { parseConfig, type Config } from "../config/config.js";
import { isDemoMode, readDemoSecret } from "../demo/demo-clinic.js";
import { loadEnvFileOrExit } from "../config/env-file.js";

const USAGE = "usage: npm run token -- <users.id> [--ttl <seconds, or 30m, 12h, 1d>]";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function refuse(message: string): never {
  process.stderr.write(`npm run token: ${message}\n`);
  process.exit(1);
}

/** "90", "90s", "30m", "12h" or "1d" in seconds; null when it is none of those. */
function parseTtl(text: string): number | null {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) return null;
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "" | "s" | "m" | "h" | "d"];
  const seconds = Number(match[1]) * unit;
  return seconds > 0 ? seconds : null;
}

/** The secret the running API verifies tokens with, or why there is none to sign with here. */
async function signingSecret(config: Config): Promise<string> {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  if (config.auth.jwksUrl) refuse("AUTH_JWKS_URL is set: tokens come from that identity provider, not from here");
  if (!isDemoMode(config)) refuse("set AUTH_JWT_SECRET (in the environment or .env) to the API's secret");
  const dir = config.database.embeddedDataDir;
  const secret = await readDemoSecret(dir);
  return secret ?? refuse(`no demo secret in ${dir} yet: start the API once (npm start), or set EMBEDDED_DATA_DIR to the demo's data directory`);
}

function readArgs(): { userId: string; ttlSeconds: number } {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { ttl: { type: "string" }, role: { type: "string" } } });
  } catch (error) {
    refuse(`${(error as Error).message}\n${USAGE}`);
  }
  const { positionals, values } = parsed;
  if (values.role !== undefined) refuse("--role: a token carries no role; the API reads it from the users row (users.role), so pass that user's id");
  const [userId, ...extra] = positionals;
  if (!userId || extra.length > 0) refuse(USAGE);
  if (!UUID.test(userId)) refuse(`${userId} is not a users.id (a UUID)\n${USAGE}`);
  const ttlSeconds = values.ttl === undefined ? 3600 : parseTtl(values.ttl);
  if (ttlSeconds === null) refuse(`--ttl ${values.ttl}: not a duration\n${USAGE}`);
  return { userId, ttlSeconds };
}

loadEnvFileOrExit();
if (process.env.NODE_ENV?.trim() === "production") {
  refuse("refused with NODE_ENV=production: production tokens come from the clinic's identity provider");
}
const { userId, ttlSeconds } = readArgs();
const parsedConfig = parseConfig(process.env);
if (!parsedConfig.ok) refuse(`the configuration is invalid:\n  - ${parsedConfig.errors.join("\n  - ")}`);
const { config } = parsedConfig;
if (ttlSeconds > config.auth.maxLifetimeSeconds) {
  refuse(`--ttl: the API refuses tokens that live over ${config.auth.maxLifetimeSeconds} s (AUTH_MAX_TOKEN_LIFETIME_SECONDS)`);
}
const token = await signAccessToken(await signingSecret(config), userId, {
  ttlSeconds,
  issuer: config.auth.issuer,
  audience: config.auth.audience,
});
process.stdout.write(token + "\n");
