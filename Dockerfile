# The API as a container image: compiled JavaScript on Node.js 20, production dependencies only,
# running as a non-root user. Build: `docker build -t consultation-video-api .` (docs/deploy.md).
# BASE_IMAGE lets a machine without registry access pass a locally made Node.js 20 base.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS builder
WORKDIR /app
COPY package.json package-lock.json ./
# The `ca` secret (optional) is a CA bundle for a registry behind a TLS-intercepting proxy;
# mounted for this step only, never stored in a layer.
RUN --mount=type=secret,id=ca,target=/tmp/ca.crt \
    if [ -f /tmp/ca.crt ]; then export NODE_EXTRA_CA_CERTS=/tmp/ca.crt; fi; \
    npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY drizzle ./drizzle
RUN npm run build

FROM ${BASE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    PORT=4000
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca,target=/tmp/ca.crt \
    if [ -f /tmp/ca.crt ]; then export NODE_EXTRA_CA_CERTS=/tmp/ca.crt; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# The migrations (found at run time next to package.json, see src/paths.ts), the compiled
# code, and the dashboard's static files (served only with DASHBOARD_ENABLED=true).
COPY drizzle ./drizzle
COPY --from=builder /app/dist/src ./dist/src
COPY src/dashboard/public ./src/dashboard/public
# The official image has a `node` user (uid 1000); a locally made base may not.
RUN id -u node >/dev/null 2>&1 || useradd --uid 1000 --user-group --no-create-home --shell /usr/sbin/nologin node
USER node
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--max-semi-space-size=32", "dist/src/app/main.js"]
