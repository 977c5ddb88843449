#!/usr/bin/env bash
# Shows that the client crate works from outside this repository: after a refresh, `cargo
# package` ships the pinned OpenAPI document (kept out of git) and the packaged crate builds on
# its own from its tarball, with no ../shared beside it.
#
# Everything happens in a temporary clone of HEAD, so the main checkout is never touched.
#   scripts/package-check.sh            # uses $CARGO_TARGET_DIR if set, else a temporary one
#   KEEP=1 scripts/package-check.sh     # keep the temporary folder for inspection
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="$(cd "$repo/../shared" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/mdcore-package-check.XXXXXX")"
cleanup() { if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi; }
trap cleanup EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$work/target}"
step() { printf '\n== %s\n' "$*"; }

step "clone HEAD of $repo into $work/repo"
git clone -q --no-hardlinks "$repo" "$work/repo"
# The lock's read-only copy is ../shared/... relative to the workspace root.
ln -s "$shared" "$work/shared"
cd "$work/repo"

step "refresh the pin from the 5.6.1 document"
upstream="$(sed -n 's/^upstream = "\(.*\)"$/\1/p' openapi/lock.toml)"
cargo xtask spec refresh --from ../shared/openapi/metadefender-core/5.6.1/openapi.json \
  --upstream "$upstream" --no-snapshot
pinned="$(sed -n 's/^pinned = "\(.*\)"$/\1/p' openapi/lock.toml)"
test -f "$pinned"
if ! git check-ignore -q "$pinned"; then
  echo "FAIL: $pinned is not git-ignored" >&2
  exit 1
fi
if [ -n "$(git status --porcelain)" ] && ! git diff --quiet -- openapi/lock.toml; then
  echo "note: the refresh changed openapi/lock.toml (date or hash):"
  git --no-pager diff --stat -- openapi/lock.toml
fi

step "package the client with the workspace crates it depends on"
# Every workspace member the client reaches through any kind of dependency is packaged
# alongside it, as it would be published.
packages="$(cargo metadata --format-version 1 --no-deps | python3 -c '
import json, sys
meta = json.load(sys.stdin)
members = {p["name"]: p for p in meta["packages"]}
todo, seen = ["metadefender-core"], set()
while todo:
    name = todo.pop()
    if name in seen:
        continue
    seen.add(name)
    for dep in members[name]["dependencies"]:
        if dep.get("path") and dep["name"] in members:
            todo.append(dep["name"])
for name in sorted(seen):
    print(name + "-" + members[name]["version"])
')"
echo "packages:" $packages
args=()
for p in $packages; do args+=(-p "${p%-*}"); done
# Verification happens below, on the unpacked client alone; the refreshed lock is a local edit.
cargo package --allow-dirty --no-verify "${args[@]}"

client_crate="$(echo "$packages" | grep '^metadefender-core-')"
crate="$CARGO_TARGET_DIR/package/$client_crate.crate"
test -f "$crate"

step "the tarball carries the pinned document"
# List first: with pipefail, `grep -q` closing the pipe early would fail tar with SIGPIPE.
listing="$(tar -tzf "$crate")"
if ! grep -qx "$client_crate/$pinned" <<<"$listing"; then
  echo "FAIL: $crate does not contain $pinned; the package's include list must name it" >&2
  echo "(cargo leaves git-ignored files out unless [package] include lists them)" >&2
  exit 1
fi
tar -xzOf "$crate" "$client_crate/$pinned" | cmp - "$pinned"
echo "ok: $pinned is in the tarball, identical to the refreshed pin"

step "build the unpacked client on its own"
unpack="$work/unpacked"
mkdir -p "$unpack"
for p in $packages; do
  tar -xzf "$CARGO_TARGET_DIR/package/$p.crate" -C "$unpack"
done
client="$unpack/$client_crate"
# The sibling crates are not on crates.io yet: point the client at their unpacked tarballs,
# as crates.io would after publishing them.
mkdir -p "$client/.cargo"
{
  echo "[patch.crates-io]"
  for dir in "$unpack"/*/; do
    name="$(basename "$dir")"
    name="${name%-*}"
    [ "$name" = metadefender-core ] && continue
    echo "$name = { path = \"${dir%/}\" }"
  done
} >"$client/.cargo/config.toml"
cat "$client/.cargo/config.toml"
# No ../shared next to the unpacked crate: the build must use the packaged pin.
test ! -e "$unpack/shared"
(cd "$client" && cargo build)
echo
echo "package-check: ok"
