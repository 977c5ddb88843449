#!/usr/bin/env bash
# Runs schemathesis (PyPI, pinned) over all 72 operations of the MetaDefender Core
# 5.6.1 document against the simulator, and fails on anything that is not a
# listed defect of the document (baseline.json). See docs/conformance-schemathesis.md.
#
# Environment (all optional):
#   MDCORE_OPENAPI     path of the 5.6.1 openapi.json (default: ../shared/... beside the repo)
#   SCHEMATHESIS_VENV  where the venv lives (default: $CARGO_TARGET_DIR or target/, /schemathesis-venv)
#   ST_EXAMPLES        -n value, test cases per operation (default 25)
#   ST_TIMEOUT         seconds allowed for each schemathesis invocation (default 900)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SPEC_SRC="${MDCORE_OPENAPI:-$ROOT/../shared/openapi/metadefender-core/5.6.1/openapi.json}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${SCHEMATHESIS_VENV:-$TARGET/schemathesis-venv}"
VERSION="4.32.5"
EXAMPLES="${ST_EXAMPLES:-25}"
ST_TIMEOUT="${ST_TIMEOUT:-900}"
APIKEY="schemathesis-apikey"

log() { echo "[schemathesis] $*"; }

[ -f "$SPEC_SRC" ] || { log "document not found: $SPEC_SRC"; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/mdcore-schemathesis.XXXXXX")"
SIM_PID=""
cleanup() {
    if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
        kill "$SIM_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SIM_PID" 2>/dev/null || true
    fi
    if [ -n "${KEEP_WORK:-}" ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. schemathesis in a venv (wheels only).
if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$VERSION"; then
    log "installing schemathesis==$VERSION into $VENV"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
    timeout 600 "$VENV/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: "schemathesis==$VERSION" </dev/null
fi

# 2. The simulator binary.
log "building mdcore-sim"
(cd "$ROOT" && cargo build --quiet -p mdcore-sim --bin mdcore-sim </dev/null)
BIN="$TARGET/debug/mdcore-sim"
[ -x "$BIN" ] || { log "binary not found: $BIN"; exit 2; }

# 3. Start the simulator on a port the kernel picks (no race with other users
#    of a "free" port), with auth on (the apikey schemathesis.toml sends), the
#    one-key not-found body (GET /file/{data_id} documents no 404), fast phases.
#    Its first line on stdout names the address.
mkdir -p "$WORK/storage"
"$BIN" --listen 127.0.0.1:0 --apikey "$APIKEY" --not-found-style body \
    --phase-ms 50 --sync-timeout-ms 5000 --storage "$WORK/storage" \
    >"$WORK/sim.log" 2>&1 </dev/null &
SIM_PID=$!
URL=""
for _ in $(seq 1 100); do
    if ! kill -0 "$SIM_PID" 2>/dev/null; then
        log "simulator exited during start-up:"; cat "$WORK/sim.log"; exit 2
    fi
    URL="$(sed -n 's/^mdcore-sim listening on \(http:\/\/127\.0\.0\.1:[0-9][0-9]*\)$/\1/p' "$WORK/sim.log" | head -1)"
    [ -n "$URL" ] && break
    sleep 0.1
done
[ -n "$URL" ] || { log "simulator did not report its address"; cat "$WORK/sim.log"; exit 2; }

# 4. Readiness, then check the process is still the one answering.
ready=""
for _ in $(seq 1 100); do
    if python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1] + "/readyz", timeout=1)' "$URL" 2>/dev/null; then
        ready=1; break
    fi
    sleep 0.1
done
[ -n "$ready" ] || { log "simulator not ready at $URL"; cat "$WORK/sim.log"; exit 2; }
kill -0 "$SIM_PID" 2>/dev/null || { log "simulator died after start-up"; cat "$WORK/sim.log"; exit 2; }
log "simulator pid $SIM_PID at $URL"

# 5. The derived test copy of the document, and the settings file beside it.
python3 "$HERE/derive_spec.py" "$SPEC_SRC" "$WORK/spec.json"
cp "$HERE/schemathesis.toml" "$WORK/schemathesis.toml"

# 6. Real results (queued, scanning, post-processing, done; archives, sanitized,
#    batches) against the response schemas, before schemathesis changes settings.
vrc=0
"$VENV/bin/python" "$HERE/validate_results.py" "$WORK/spec.json" "$URL" "$APIKEY" </dev/null || vrc=$?

# 7. Two invocations: POST /admin/config/healthcheck changes what GET /readyz
#    answers (a raised engine threshold makes it 503, as documented), so it runs
#    after everything else instead of interleaved with it.
run_st() {
    local name="$1"; shift
    log "schemathesis run ($name)"
    local rc=0
    (cd "$WORK" && timeout "$ST_TIMEOUT" "$VENV/bin/schemathesis" run spec.json --url "$URL" \
        -n "$EXAMPLES" -m positive \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --seed 1 --generation-database none --request-timeout 5 --no-color \
        --report junit,ndjson --report-dir "$WORK/reports-$name" "$@" </dev/null >"$WORK/st-$name.out" 2>&1) || rc=$?
    # 0: no failures, 1: failures (judged against the baseline below); anything else is broken.
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
        log "schemathesis ($name) exited $rc"; tail -50 "$WORK/st-$name.out"; exit 1
    fi
    grep -E "^ *(Selected|Tested):|generated, " "$WORK/st-$name.out" | sed 's/^ */  /' || true
}
run_st main --exclude-operation-id configUpdateHealthCheck
run_st healthcheck --include-operation-id configUpdateHealthCheck

if ! kill -0 "$SIM_PID" 2>/dev/null; then
    log "the simulator died during the run:"; tail -50 "$WORK/sim.log"; exit 1
fi

# 8. Judge.
rc=0
python3 "$HERE/compare.py" "$HERE/baseline.json" "$WORK"/reports-*/*.ndjson || rc=$?
if [ "$rc" -ne 0 ]; then
    log "schemathesis output of the main run:"; sed -n '/FAILURES/,$p' "$WORK/st-main.out" | head -200
fi
if [ "$vrc" -ne 0 ]; then
    log "real results break the document's response schemas (see VIOLATION lines above)"
    rc=1
fi
exit "$rc"
