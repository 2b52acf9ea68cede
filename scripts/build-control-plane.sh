#!/usr/bin/env bash
# Builds the local control plane (kube-apiserver on an embedded etcd) and kubectl of the same version from
# tools/local-control-plane into .control-plane/bin, only when their sources changed since the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=tools/local-control-plane
OUT=.control-plane
BIN="$OUT/bin"
# The Kubernetes release both binaries are built from, as go.mod pins it.
VERSION=$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$SRC/go.mod")
if [ -z "$VERSION" ]; then
  echo "control-plane: no k8s.io/kubernetes requirement in $SRC/go.mod" >&2
  exit 1
fi
STAMP=$( (cat "$0" "$SRC/go.mod" "$SRC/go.sum" "$SRC"/*.go; go version) | sha256sum | cut -c1-16)
if [ -x "$BIN/local-control-plane" ] && [ -x "$BIN/kubectl" ] && [ "$(cat "$OUT/stamp" 2>/dev/null)" = "$STAMP" ]; then
  echo "control-plane: $BIN is up to date (Kubernetes $VERSION)"
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "control-plane: Go is needed to build kube-apiserver and etcd (see docs/development.md)" >&2
  exit 1
fi
MINOR=$(echo "$VERSION" | cut -d. -f2)
LDFLAGS=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS="$LDFLAGS -X $pkg.gitVersion=$VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$MINOR -X $pkg.gitTreeState=clean"
done
echo "control-plane: building kube-apiserver + etcd and kubectl $VERSION into $BIN"
echo "control-plane: a first build takes about 6-8 minutes and 2.3 GB of memory on 2 cores; later ones reuse Go's build cache"
mkdir -p "$BIN"
start=$(date +%s)
(cd "$SRC" && go build -ldflags "$LDFLAGS" -o "../../$BIN/local-control-plane" .)
(cd "$SRC" && go build -ldflags "$LDFLAGS" -o "../../$BIN/kubectl" k8s.io/kubernetes/cmd/kubectl)
echo "$STAMP" > "$OUT/stamp"
echo "control-plane: built in $(( $(date +%s) - start ))s"
