#!/usr/bin/env bash
# `npm pack` and `npm publish` (prepack): the command line as the package ships it, built fresh into dist/src
# from src/ alone (no tests, benches or source maps), so that a module deleted from src/ cannot linger in the
# package. The bin is made executable here too, for tools that unpack the tarball without npm.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist/src
npx tsc -p tsconfig.package.json
chmod +x dist/src/cli/main.js
