#!/usr/bin/env bash
# CI: builds the container image (Dockerfile) and checks that it runs: the one-shot migration,
# then the API against this machine's PostgreSQL, answering /healthz, /readyz and a GraphQL
# request as a non-root user. Prints one plain line at the end:
#   "image: built and answered"      success
#   "image: not built: <reason>"     no usable container runtime here (exit 0: not a defect)
#   "image: built, not run: <reason>" no PostgreSQL to run it against (exit 0)
# A runtime that works but an image that does not build or answer is a failure (exit 1).
#
# CI reaches no image registry (only npm's and Debian's), so the Node.js base image is made
# locally (debootstrap + this machine's node and npm) and kept in podman's storage: later runs
# reuse it. npm inside the build reaches the registry through the host network, trusting
# NODE_EXTRA_CA_CERTS (passed as a build secret) when it names a file.
# Settings (environment): IMAGE_CHECK_SERVER_URL (a PostgreSQL URL to create the check's
# database on; default postgres://postgres@127.0.0.1:5432/postgres), IMAGE_TAG.
set -uo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
work=$(mktemp -d)
log="$work/log"
container="consultation-image-check-$$"
image="${IMAGE_TAG:-localhost/consultation-video-api:check}"
server_url="${IMAGE_CHECK_SERVER_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
check_db="image_check"
database_created=""

say() { printf '[image] %s\n' "$*"; }
not_built() { echo "image: not built: $*"; exit 0; }
fail() {
  echo "image: FAILED: $*" >&2
  [ -s "$log" ] && tail -n 40 "$log" >&2
  exit 1
}
cleanup() {
  podman container exists "$container" 2>/dev/null && podman --runtime runc rm -f -t 5 "$container" >/dev/null 2>&1
  [ -n "$database_created" ] && sql "drop database if exists $check_db with (force)" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# --- 1. A container runtime: Debian's podman with runc, installed with apt-get when root.
if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
  if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
    not_built "podman, runc and debootstrap are not installed, and apt-get as root is not available"
  fi
  say "installing podman, runc and debootstrap (apt-get)"
  if ! (timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq podman runc debootstrap) >"$log" 2>&1; then
    not_built "apt-get could not install podman, runc and debootstrap ($(tail -n 1 "$log"))"
  fi
fi
# The default OCI runtime (crun) fails on CI machines like ours (setrlimit RLIMIT_NOFILE not
# permitted, hybrid cgroups): runc, no default ulimits and the cgroupfs manager work.
cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
EOF
export CONTAINERS_CONF="$work/containers.conf"
pm=(podman --runtime runc)

# --- 2. The Node.js base image, made once from this machine's node and npm.
node_version=$(node -p 'process.versions.node' 2>/dev/null) || not_built "no node on this machine to make the base image from"
base="localhost/node-base:${node_version%%.*}"
base_version=$(podman image inspect --format '{{ index .Config.Labels "node_version" }}' "$base" 2>/dev/null || true)
if [ "$base_version" = "$node_version" ]; then
  say "base image $base (node $node_version): reusing it"
else
  say "making base image $base (debootstrap bookworm minbase + node $node_version)"
  root="$work/rootfs"
  if ! timeout 900 debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$log" 2>&1; then
    not_built "debootstrap could not make a Debian base ($(tail -n 1 "$log"))"
  fi
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  install -m 0755 "$(readlink -f "$(command -v node)")" "$root/usr/bin/node"
  mkdir -p "$root/usr/lib/node_modules"
  cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  if ! tar -C "$root" -c . | timeout 300 podman import --change "LABEL node_version=$node_version" \
       --change 'CMD ["node"]' - "$base" >"$log" 2>&1; then
    not_built "podman could not import the base image ($(tail -n 1 "$log"))"
  fi
  rm -rf "$root"
fi
if ! timeout 120 "${pm[@]}" run --rm --network host "$base" node -e 'process.exit(0)' >"$log" 2>&1; then
  not_built "podman cannot run a container here ($(tail -n 1 "$log"))"
fi

# --- 3. The project's image. The CA bundle (when the registry is behind a TLS proxy) is a
# build secret, so it is not stored in the image.
build_args=(--format docker --network host --build-arg "BASE_IMAGE=$base" -t "$image")
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  build_args+=(--secret "id=ca,src=$NODE_EXTRA_CA_CERTS")
fi
say "building $image"
build_started=$SECONDS
timeout 1200 "${pm[@]}" build "${build_args[@]}" . >"$log" 2>&1 || fail "podman build failed"
build_seconds=$((SECONDS - build_started))
say "built in ${build_seconds}s ($(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1000000}'))"

# --- 4. Run it against PostgreSQL on a fresh database.
sql() {
  if command -v psql >/dev/null; then
    psql "$server_url" -v ON_ERROR_STOP=1 -qAtc "$1"
  else
    SQL="$1" URL="$server_url" node --input-type=module -e \
      'import postgres from "postgres"; const s = postgres(process.env.URL, { max: 1, onnotice() {} }); try { await s.unsafe(process.env.SQL); } finally { await s.end(); }'
  fi
}
if ! sql "select 1" >/dev/null 2>&1; then
  echo "image: built, not run: no PostgreSQL at $(node -p 'new URL(process.argv[1]).host' "$server_url") (set IMAGE_CHECK_SERVER_URL)"
  exit 0
fi
sql "drop database if exists $check_db with (force)" >/dev/null 2>&1; sql "create database $check_db" >/dev/null || fail "could not create database $check_db"
database_created=1
database_url="${server_url%/*}/$check_db"
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
secret=$(node -p 'require("crypto").randomBytes(32).toString("base64url")')
run_env=(-e "DATABASE_URL=$database_url" -e "PORT=$port" -e "AUTH_JWT_SECRET=$secret" -e NODE_ENV=production)

say "one-shot migration (node dist/src/scripts/migrate.js)"
timeout 120 "${pm[@]}" run --rm --network host "${run_env[@]}" "$image" node dist/src/scripts/migrate.js >"$log" 2>&1 \
  || fail "the migration job failed"

say "starting the API on port $port"
"${pm[@]}" run -d --name "$container" --network host "${run_env[@]}" "$image" >"$log" 2>&1 || fail "podman run failed"
url="http://127.0.0.1:$port"
# GET/POST with a bound time, from this machine's node (curl may be absent).
http() {
  URL="$1" BODY="${2:-}" timeout 10 node -e '
    const body = process.env.BODY;
    fetch(process.env.URL, body ? { method: "POST", headers: { "content-type": "application/json" }, body } : {})
      .then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); }, () => process.exit(2));'
}
deadline=$((SECONDS + 60))
until http "$url/healthz" >/dev/null 2>&1; do
  if [ "$(podman inspect --format '{{.State.Running}}' "$container" 2>/dev/null)" != "true" ]; then
    podman logs "$container" >"$log" 2>&1; fail "the container exited before /healthz answered"
  fi
  if [ $SECONDS -ge $deadline ]; then podman logs "$container" >"$log" 2>&1; fail "/healthz did not answer within 60 s"; fi
  sleep 1
done
ready=$(http "$url/readyz") || { podman logs "$container" >"$log" 2>&1; fail "/readyz is not ready: $ready"; }
answer=$(http "$url/graphql" '{"query":"{ __typename }"}') || fail "POST /graphql failed: $answer"
[ "$answer" = '{"data":{"__typename":"Query"}}' ] || fail "POST /graphql answered $answer"
uid=$(podman exec "$container" id -u 2>/dev/null) || uid=$(podman exec "$container" node -p 'process.getuid()')
[ "$uid" != "0" ] || fail "the API runs as root in the container"
timeout 30 "${pm[@]}" healthcheck run "$container" >"$log" 2>&1 || fail "the image's HEALTHCHECK failed"
say "/healthz ok, /readyz $ready, POST /graphql $answer, uid $uid, HEALTHCHECK ok"

timeout 30 "${pm[@]}" stop -t 15 "$container" >"$log" 2>&1 || fail "the container did not stop on SIGTERM"
code=$(podman inspect --format '{{.State.ExitCode}}' "$container")
[ "$code" = "0" ] || { podman logs "$container" >"$log" 2>&1; fail "the API exited with $code on SIGTERM"; }
echo "image: built and answered (build ${build_seconds}s, total $((SECONDS - started))s)"
