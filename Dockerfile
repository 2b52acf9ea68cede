# iot-security-operator: build with the dev dependencies, run with the production ones only, as a non-root user on
# a distroless Node.js 20 image (no shell, no package manager). Not built here: this machine has no container
# engine; the same steps run in CI (npm ci, tsc) on every change.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY schemas schemas
COPY src src
RUN npx tsc -p tsconfig.json

FROM node:20-bookworm-slim AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=production-dependencies /app/node_modules node_modules
COPY --from=build /src/dist dist
COPY package.json ./
# Read at run time: the API's schemas (validation) and the CRDs and examples (demo).
COPY schemas schemas
COPY crds crds
COPY examples examples
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "dist/src/cli/main.js"]
CMD ["run"]
