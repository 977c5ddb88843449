#!/usr/bin/env bash
# Third-party conformance check with Prism (Stoplight), in two passes:
#  1. `prism mock` with the pinned document: tests/prism.rs calls every operation of the
#     generated client and reads Prism's verdict on each request;
#  2. `prism proxy --errors` in front of the simulator (mdcore-sim): tests/prism_proxy.rs runs
#     the scanning layer's main flows, checking requests and responses at once.
# Installs Prism under target/prism when missing (npm, scripts disabled), checks each port is
# free before use, waits for readiness, checks the processes are alive, and always stops them.
# Reports: target/conformance/prism-report.md, target/conformance/prism-proxy-report.md.
#
# Usage: bash conformance/prism/run.sh [extra cargo test args]
# Env:   PRISM_VERSION (default 5.14.2; 5.16.0 hangs on malformed JSON), CARGO (default cargo).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
version=${PRISM_VERSION:-5.14.2}
cargo=${CARGO:-cargo}
prism_dir="$root/target/prism"
prism="$prism_dir/node_modules/.bin/prism"
logs="$root/target/conformance"
mkdir -p "$logs"

say() { printf 'prism-conformance: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            # Give it a moment, then make sure.
            for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Installation.
installed_version() {
    sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
        "$prism_dir/node_modules/@stoplight/prism-cli/package.json" 2>/dev/null | head -n1
}
if [ ! -x "$prism" ] || [ "$(installed_version)" != "$version" ]; then
    command -v npm >/dev/null || die "npm is needed to install Prism $version"
    say "installing @stoplight/prism-cli@$version into target/prism"
    mkdir -p "$prism_dir"
    (cd "$prism_dir" && npm install --ignore-scripts --no-audit --no-fund --silent \
        "@stoplight/prism-cli@$version") >"$logs/npm.log" 2>&1 \
        || { cat "$logs/npm.log" >&2; die "npm install failed"; }
fi
[ "$(installed_version)" = "$version" ] || die "Prism $version is not what target/prism holds"

# The document the client is generated from, as build.rs picks it: METADEFENDER_OPENAPI when
# set (a candidate new version, unchecked), else the pin of openapi/lock.toml (`pinned` when
# present, else `local`), checked against its sha256.
lock_value() { sed -n "s/^$1 *= *\"\(.*\)\"/\1/p" openapi/lock.toml | head -n1; }
doc=""
if [ -n "${METADEFENDER_OPENAPI:-}" ]; then
    doc=$(cd "$(dirname "$METADEFENDER_OPENAPI")" && pwd)/$(basename "$METADEFENDER_OPENAPI")
    [ -f "$doc" ] || die "METADEFENDER_OPENAPI=$METADEFENDER_OPENAPI is not a file"
    export METADEFENDER_OPENAPI="$doc"
    say "checking $doc (METADEFENDER_OPENAPI), not the pin"
else
    for rel in "$(lock_value pinned)" "$(lock_value local)"; do
        if [ -n "$rel" ] && [ -f "$root/$rel" ]; then doc="$root/$rel"; break; fi
    done
    [ -n "$doc" ] || die "the pinned document named by openapi/lock.toml is missing"
    want=$(lock_value sha256)
    have=$(sha256sum "$doc" | cut -d' ' -f1)
    [ "$have" = "$want" ] || die "$doc does not match the sha256 of openapi/lock.toml"
fi

# Ports: a random one nobody answers on (a busy port makes Prism print its help and exit,
# and the tests would talk to whoever holds it).
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$(( 20000 + RANDOM % 40000 ))
        if ! port_busy "$p"; then echo "$p"; return 0; fi
    done
    die "no free port found"
}

# Waits until `pid` logs `pattern` and answers on `port`; fails if it dies first.
wait_ready() {
    local name=$1 pid=$2 port=$3 log=$4 pattern=$5
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "$name exited during start-up"; }
        if grep -q "$pattern" "$log" 2>/dev/null && port_busy "$port"; then
            kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "$name died after start-up"; }
            return 0
        fi
        sleep 0.1
    done
    cat "$log" >&2
    die "$name not ready after 30 s"
}

# Build first, so that start-up timing does not include compilation.
say "building the tests (feature conformance) and the simulator"
"$cargo" build -q -p mdcore-sim --bin mdcore-sim
"$cargo" test -q -p metadefender-core --features conformance --test prism --test prism_proxy --no-run

target_dir=$("$cargo" metadata --format-version 1 --no-deps \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
sim="$target_dir/debug/mdcore-sim"
[ -x "$sim" ] || die "the simulator binary is not at $sim"

# Pass 1: prism mock.
mock_port=$(free_port)
"$prism" mock -h 127.0.0.1 -p "$mock_port" "$doc" >"$logs/prism-mock.log" 2>&1 &
pids+=("$!")
wait_ready "prism mock" "$!" "$mock_port" "$logs/prism-mock.log" "Prism is listening"
say "prism mock on 127.0.0.1:$mock_port"

# Pass 2: the simulator, with a user and an apikey, behind prism proxy --errors.
sim_port=$(free_port)
sim_user=conformance
sim_password="pw-$RANDOM$RANDOM"
sim_apikey="key-$RANDOM$RANDOM"
"$sim" --listen "127.0.0.1:$sim_port" --user "$sim_user:$sim_password" \
    --apikey "$sim_apikey" >"$logs/sim.log" 2>&1 &
pids+=("$!")
wait_ready "mdcore-sim" "$!" "$sim_port" "$logs/sim.log" "listening on"
proxy_port=$(free_port)
"$prism" proxy --errors -h 127.0.0.1 -p "$proxy_port" "$doc" "http://127.0.0.1:$sim_port" \
    >"$logs/prism-proxy.log" 2>&1 &
pids+=("$!")
wait_ready "prism proxy" "$!" "$proxy_port" "$logs/prism-proxy.log" "Prism is listening"
say "prism proxy on 127.0.0.1:$proxy_port in front of mdcore-sim on 127.0.0.1:$sim_port"

PRISM_URL="http://127.0.0.1:$mock_port" \
PRISM_PROXY_URL="http://127.0.0.1:$proxy_port" \
PRISM_PROXY_USER="$sim_user" \
PRISM_PROXY_PASSWORD="$sim_password" \
PRISM_PROXY_APIKEY="$sim_apikey" \
    "$cargo" test -q -p metadefender-core --features conformance --test prism --test prism_proxy "$@"

for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || die "a server (pid $pid) died during the tests; see $logs"
done
say "reports: target/conformance/prism-report.md, target/conformance/prism-proxy-report.md"
