#!/usr/bin/env bash
# Builds the test tool tools/NAME (a small Go program with its own go.mod and go.sum) into .tools/bin/NAME, only
# when its sources changed since the last build: lua-health (Argo CD's Lua interpreter running a health check),
# kstatus (what Flux and cli-utils read from a resource's status), flux-health (Flux's evaluator of a
# Kustomization's healthCheckExprs) and helm (Helm's own command, the package go.mod's `tool` directive names).
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=${1:?usage: build-go-tool.sh NAME (a folder of tools/)}
SRC=tools/$NAME
OUT=.tools
BIN="$OUT/bin/$NAME"
STAMP_FILE="$OUT/$NAME.stamp"
# A folder whose go.mod names a `tool` builds that upstream command as it is; the others build their own main.go.
PKG=$(awk '$1 == "tool" { print $2; exit }' "$SRC/go.mod")
PKG=${PKG:-.}
STAMP=$( (cat "$0" "$SRC/go.mod" "$SRC/go.sum" $(ls "$SRC"/*.go 2>/dev/null); go version 2>/dev/null || true) | sha256sum | cut -c1-16)
if [ -x "$BIN" ] && [ "$(cat "$STAMP_FILE" 2>/dev/null)" = "$STAMP" ]; then
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "$NAME: Go is needed to build $SRC, which the tests run" >&2
  exit 1
fi
echo "$NAME: building $BIN (its modules as $SRC/go.sum pins them)"
mkdir -p "$OUT/bin"
# -mod=readonly: a go.sum that does not match go.mod fails the build rather than being rewritten. Built aside
# and renamed into place: test files running at once may build it together, or run the old one meanwhile.
(cd "$SRC" && go build -mod=readonly -buildvcs=false -o "../../$BIN.$$" "$PKG")
mv -f "$BIN.$$" "$BIN"
echo "$STAMP" > "$STAMP_FILE.$$"
mv -f "$STAMP_FILE.$$" "$STAMP_FILE"
