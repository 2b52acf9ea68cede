#!/usr/bin/env bash
# Builds tools/lua-health (Argo CD's Lua interpreter, gopher-lua, running a health check on one object) into
# .tools/bin, only when its sources changed since the last build. The Argo CD health check tests run it.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=tools/lua-health
OUT=.tools
BIN="$OUT/bin/lua-health"
STAMP=$( (cat "$0" "$SRC/go.mod" "$SRC/go.sum" "$SRC"/*.go; go version 2>/dev/null || true) | sha256sum | cut -c1-16)
if [ -x "$BIN" ] && [ "$(cat "$OUT/lua-health.stamp" 2>/dev/null)" = "$STAMP" ]; then
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "lua-health: Go is needed to build the Lua interpreter the Argo CD health check tests run" >&2
  exit 1
fi
echo "lua-health: building $BIN (gopher-lua, as go.sum pins it)"
mkdir -p "$OUT/bin"
# -mod=readonly: a go.sum that does not match go.mod fails the build rather than being rewritten. Built aside
# and renamed into place: test files running at once may build it together, or run the old one meanwhile.
(cd "$SRC" && go build -mod=readonly -buildvcs=false -o "../../$BIN.$$" .)
mv -f "$BIN.$$" "$BIN"
echo "$STAMP" > "$OUT/lua-health.stamp.$$"
mv -f "$OUT/lua-health.stamp.$$" "$OUT/lua-health.stamp"
