#!/usr/bin/env bash
# `make image`: builds the Dockerfile with podman and no container registry. Its two FROM images are made here
# from Debian's packages (mmdebstrap) and the official Node binary the npm registry serves, imported as local
# images, and passed as NODE_IMAGE and BASE_IMAGE (the Dockerfile's defaults are the public images users pull):
#   - the runtime base: glibc, libgcc and libstdc++ (what the Node binary links), /etc/passwd with the nonroot
#     user 65532, no shell, no package manager (what gcr.io/distroless/cc-debian12:nonroot is);
#   - the build image: Debian minbase with Node and npm in /usr/local (what node:24-bookworm-slim is).
# Each is built only when its inputs change (their tag is a hash of the recipe). Prints the image's size as a
# registry holds it: its gzip-compressed layers and config summed.
# Needs root, podman, runc and mmdebstrap, and skopeo for the size (Debian: apt-get install podman runc mmdebstrap
# skopeo).
# IMAGE names the result (default localhost/iot-security-operator:VERSION).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The official Node 24 LTS binary comes as the npm registry serves it, version and integrity pinned in
# scripts/install-node.sh (the one place, shared with CI's Node 24 run). npm is not in that package; the build image
# gets the npm pinned here, like a lock file pins a package: version and the registry's integrity field.
NPM_PACKAGE=npm@11.19.1
NPM_INTEGRITY=sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g==

VERSION=$(node -p 'require("./package.json").version')
IMAGE=${IMAGE:-localhost/iot-security-operator:$VERSION}
CACHE=.state/image
# crun refuses the cgroup v1 hybrid layout some kernels have; runc works everywhere podman does.
PODMAN=(podman --runtime runc)

if [ "$(id -u)" != 0 ]; then
  echo "build-image: needs root (mmdebstrap makes the bases, podman imports them)" >&2
  exit 1
fi
for tool in podman runc mmdebstrap; do
  command -v "$tool" >/dev/null || {
    echo "build-image: $tool is not installed (Debian: apt-get install podman runc mmdebstrap skopeo)" >&2
    exit 1
  }
done

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
# One build at a time: test files running together (image, helm-node) each ask for the image; the second then
# finds it built.
exec 9>"$CACHE/build.lock"
flock 9

# `npm pack` of SPEC into the cache, checked against INTEGRITY (sha512 of the tarball, base64, as npm records it).
fetch_package() {
  local spec=$1 integrity=$2 file
  file="$CACHE/$(echo "$spec" | sed 's/@/-/').tgz"
  if [ ! -f "$file" ]; then
    (cd "$CACHE" && npm pack "$spec" --silent >/dev/null)
  fi
  local actual
  actual="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    rm -f "$file"
    echo "build-image: $spec has integrity $actual, expected $integrity" >&2
    exit 1
  fi
  echo "$file"
}

# The runtime base: the shared libraries the Node binary needs and nothing to run besides it. Extracted, not
# installed (no maintainer scripts, no dpkg, no shell); what no program here reads is removed (docs, locales,
# iconv modules, apt's state).
runtime_base_rootfs() {
  local tar=$1
  mmdebstrap --quiet --variant=extract --include=libc6,libgcc-s1,libstdc++6 \
    --customize-hook='rm -rf "$1"/usr/share/doc "$1"/usr/share/lintian "$1"/usr/share/locale "$1"/usr/lib/x86_64-linux-gnu/gconv "$1"/var/cache/apt "$1"/var/lib/apt "$1"/etc/apt "$1"/var/log/* "$1"/usr/bin "$1"/usr/sbin "$1"/usr/libexec' \
    --customize-hook='printf "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n" >"$1/etc/passwd"' \
    --customize-hook='printf "root:x:0:\nnonroot:x:65532:\n" >"$1/etc/group"' \
    --customize-hook='printf "hosts: files dns\n" >"$1/etc/nsswitch.conf"' \
    --customize-hook='mkdir -p "$1/tmp" "$1/home/nonroot" && chmod 1777 "$1/tmp" && chown 65532:65532 "$1/home/nonroot"' \
    "$DEBIAN_SUITE" "$tar" "$DEBIAN_MIRROR"
}

# The build image: Debian minbase with Node and npm where the official node images have them. The machine's CA
# bundle goes in as NODE_EXTRA_CA_CERTS, so npm reaches the registry through the TLS proxy this machine may use;
# this image only builds, it never ships.
build_image_rootfs() {
  local tar=$1 node=$2 npm=$3
  NODE_TGZ=$node NPM_TGZ=$npm mmdebstrap --quiet --variant=minbase \
    --customize-hook='tar -xzf "$NODE_TGZ" -C "$1/usr/local" --strip-components=1 package/bin/node package/include' \
    --customize-hook='mkdir -p "$1/usr/local/lib/node_modules/npm" && tar -xzf "$NPM_TGZ" -C "$1/usr/local/lib/node_modules/npm" --strip-components=1' \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
    --customize-hook='mkdir -p "$1/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/ca-certificates.crt"' \
    --customize-hook='rm -rf "$1"/usr/share/doc "$1"/usr/share/locale "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
    "$DEBIAN_SUITE" "$tar" "$DEBIAN_MIRROR"
}

# A local image made by FUNCTION, tagged with a hash of everything that shapes it (the function's text, the suite,
# the pinned packages, ARGS: files by name, which holds their version, so that every checkout shares one image), so
# it is rebuilt exactly when one of those changes. Prints its name.
local_image() {
  local name=$1 function=$2
  shift 2
  local key image
  key=$(printf '%s\n' "$(declare -f "$function")" "$DEBIAN_SUITE" "$NPM_INTEGRITY" "${@##*/}" |
    sha256sum | cut -c1-16)
  image="localhost/$name:$key"
  if ! "${PODMAN[@]}" image exists "$image"; then
    echo "build-image: building $image from Debian $DEBIAN_SUITE" >&2
    local tar="$CACHE/$name.tar"
    "$function" "$tar" "$@" >&2
    "${PODMAN[@]}" import "${IMPORT_CHANGES[@]}" "$tar" "$image" >/dev/null
    rm -f "$tar"
  fi
  echo "$image"
}

node_tgz=$(bash scripts/install-node.sh --tarball)
npm_tgz=$(fetch_package "$NPM_PACKAGE" "$NPM_INTEGRITY")

IMPORT_CHANGES=(--change 'USER=65532:65532' --change 'WORKDIR=/home/nonroot')
base_image=$(local_image iot-security-operator-base runtime_base_rootfs)
IMPORT_CHANGES=(--change 'ENV=PATH=/usr/local/bin:/usr/bin:/bin' --change 'ENV=NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt'
  --change 'CMD=["/bin/bash"]')
ca_hash=$(sha256sum /etc/ssl/certs/ca-certificates.crt | cut -c1-16)
node_image=$(local_image iot-security-operator-node-build build_image_rootfs "$node_tgz" "$npm_tgz" "$ca_hash")

# --network host: npm ci in the build stage reaches the registry as this machine does.
"${PODMAN[@]}" build --pull=never --network host \
  --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
  --build-arg "BASE_IMAGE=$base_image" --build-arg "NODE_IMAGE=$node_image" \
  --tag "$IMAGE" --file Dockerfile .

# The size a registry shows: every layer gzip-compressed, as a push sends it, plus the config.
if ! command -v skopeo >/dev/null; then
  echo "build-image: built $IMAGE; install skopeo to see its size as a registry holds it" >&2
  exit 0
fi
oci=$(mktemp -d)
trap 'rm -rf "$oci"' EXIT
skopeo copy --quiet --dest-compress --dest-compress-format gzip "containers-storage:$IMAGE" "oci:$oci/image" >/dev/null
node -e '
  const { readFileSync } = require("node:fs");
  const blob = (digest) => JSON.parse(readFileSync(`${process.argv[1]}/blobs/sha256/${digest.slice(7)}`, "utf8"));
  const m = blob(JSON.parse(readFileSync(`${process.argv[1]}/index.json`, "utf8")).manifests[0].digest);
  const bytes = m.config.size + m.layers.reduce((sum, l) => sum + l.size, 0);
  console.log(`${process.argv[2]}: ${(bytes / 1e6).toFixed(1)} MB compressed (${m.layers.length} layers)`);
' "$oci/image" "$IMAGE"
