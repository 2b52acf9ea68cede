#!/usr/bin/env bash
# Builds, from tools/local-control-plane's Go module (one Kubernetes release, as its go.mod pins it), into
# .control-plane/bin, only when their inputs changed since the last build:
#   build-control-plane.sh        the local control plane (kube-apiserver on an embedded etcd) and kubectl;
#   build-control-plane.sh node   what a node adds (test/support/local-node.ts): kubelet, kube-scheduler,
#                                 kube-controller-manager, kube-proxy, and Kubernetes' pause (the pod sandbox).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=tools/local-control-plane
OUT=.control-plane
BIN="$OUT/bin"
PART=${1:-control-plane}
# The Kubernetes release every binary is built from, as go.mod pins it.
VERSION=$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$SRC/go.mod")
if [ -z "$VERSION" ]; then
  echo "control-plane: no k8s.io/kubernetes requirement in $SRC/go.mod" >&2
  exit 1
fi
case "$PART" in
  control-plane)
    BINARIES="local-control-plane kubectl"
    STAMP_FILE="$OUT/stamp"
    STAMP=$( (cat "$0" "$SRC/go.mod" "$SRC/go.sum" "$SRC"/*.go; go version) | sha256sum | cut -c1-16) ;;
  node)
    BINARIES="kubelet kube-scheduler kube-controller-manager kube-proxy pause"
    STAMP_FILE="$OUT/node.stamp"
    STAMP=$( (cat "$0" "$SRC/go.mod" "$SRC/go.sum"; go version; cc --version 2>/dev/null) | sha256sum | cut -c1-16) ;;
  *)
    echo "usage: build-control-plane.sh [node]" >&2
    exit 2 ;;
esac
built=true
for b in $BINARIES; do [ -x "$BIN/$b" ] || built=false; done
if $built && [ "$(cat "$STAMP_FILE" 2>/dev/null)" = "$STAMP" ]; then
  echo "$PART: $BIN is up to date (Kubernetes $VERSION)"
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "$PART: Go is needed to build $BINARIES (see docs/development.md)" >&2
  exit 1
fi
MINOR=$(echo "$VERSION" | cut -d. -f2)
LDFLAGS=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS="$LDFLAGS -X $pkg.gitVersion=$VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$MINOR -X $pkg.gitTreeState=clean"
done
mkdir -p "$BIN"
start=$(date +%s)
# Built aside and renamed into place: a control plane or node running meanwhile keeps its binary.
build() { (cd "$SRC" && go build -ldflags "$LDFLAGS" -o "../../$BIN/$1.$$" "$2") && mv -f "$BIN/$1.$$" "$BIN/$1"; }
if [ "$PART" = control-plane ]; then
  echo "control-plane: building kube-apiserver + etcd and kubectl $VERSION into $BIN"
  echo "control-plane: a first build takes about 6-8 minutes and 2.3 GB of memory on 2 cores; later ones reuse Go's build cache"
  build local-control-plane .
  build kubectl k8s.io/kubernetes/cmd/kubectl
else
  if ! command -v cc >/dev/null; then
    # Only the real-node test needs the node (it needs root, containerd and runc too): without cc, the rest of the
    # suite runs and that test says it is skipped.
    echo "node: NOT built: Kubernetes' pause needs a C compiler (apt-get install gcc libc6-dev); test/install/helm-node.test.ts will say it is skipped" >&2
    exit 0
  fi
  echo "node: building kubelet, kube-scheduler, kube-controller-manager, kube-proxy $VERSION and pause into $BIN"
  for b in kubelet kube-scheduler kube-controller-manager kube-proxy; do build "$b" "k8s.io/kubernetes/cmd/$b"; done
  # pause.c as the Kubernetes release has it (build/pause), static as its image ships it.
  PAUSE_C="$(cd "$SRC" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
  cc -Os -static -DVERSION="$VERSION" -o "$BIN/pause.$$" "$PAUSE_C" && mv -f "$BIN/pause.$$" "$BIN/pause"
fi
echo "$STAMP" > "$STAMP_FILE"
echo "$PART: built in $(( $(date +%s) - start ))s"
