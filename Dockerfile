# iot-security-operator: built with the dev dependencies on Node 24, run with the production ones only, as the
# non-root user 65532 on a base with the C libraries Node needs and nothing else (no shell, no package manager),
# with a read-only root file system. `make image` builds it here without a registry: scripts/build-image.sh makes
# both FROM images from Debian's packages and the official Node binary and passes them as NODE_IMAGE and
# BASE_IMAGE (docs/container-image.md).
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim
ARG BASE_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json ./
COPY schemas schemas
COPY src src
RUN npx tsc -p tsconfig.json
# What the image runs from, in /app: the compiled code without its source maps, the production dependencies
# without what Node never loads (type declarations, TypeScript sources, source maps, Markdown, the browser and
# React Native builds of the Azure SDK), and the files read at run time (the API's schemas for validation, the
# CRDs and examples for `demo`). The emulator's own dependencies (@peculiar/x509) stay: `emulator` runs from the
# image too (with a writable /tmp or --state folder), and they are about 1 MB of it on disk, 0.3 MB compressed.
RUN npm prune --omit=dev --no-audit --no-fund --loglevel=error \
  && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.ts' \
       -o -name '*.map' -o -name '*.md' -o -name '*.markdown' \) -delete \
  && find node_modules/@azure -mindepth 3 -maxdepth 3 -type d \( -name browser -o -name react-native \) \
       -path '*/dist/*' -exec rm -rf {} + \
  && find dist -name '*.map' -delete \
  && mkdir /app && mv node_modules package.json dist schemas /app/
COPY crds /app/crds
COPY examples /app/examples

FROM ${BASE_IMAGE}
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /app /app
WORKDIR /app
ENV NODE_ENV=production
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/node", "dist/src/cli/main.js"]
CMD ["run"]
