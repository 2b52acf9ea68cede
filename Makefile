# iot-security-operator: every target installs what it needs on a fresh clone (Node >= 20, npm and Go >= 1.26; root,
# podman, containerd and a C compiler only for the image and the real-node tests, which say when they are skipped).
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_MODULES := node_modules/.package-lock.json
CLI := node dist/src/cli/main.js

.PHONY: help install build generate test lint format demo clean control-plane node test-tools test-node22 test-node24 image bench bench-twin-config bench-many-hubs bench-million bench-emulator soak

help:
	@echo "make demo      run the operator's main job on the embedded emulator"
	@echo "make test      run the test suite"
	@echo "make test-node22, make test-node24    the suite on Node 22 or 24, the LTS lines (official binaries from the npm registry; CI runs both)"
	@echo "make build     compile TypeScript to dist/"
	@echo "make generate  regenerate types and CRDs from schemas/"
	@echo "make lint      biome lint/format check and type check"
	@echo "make control-plane  build kube-apiserver + etcd and kubectl from Go modules (first build: minutes)"
	@echo "make node      build a node's kubelet, kube-proxy, kube-scheduler, kube-controller-manager and pause (same module)"
	@echo "make test-tools     build the Go tools tests run: Argo CD's Lua interpreter, Flux's kstatus and CEL, Helm"
	@echo "make image     build the container image with podman, its bases from Debian's packages (no registry)"
	@echo "make bench     the performance benchmark: contenders at the hub's quota floor (bench/results/)"
	@echo "make bench-twin-config  a TwinConfig rollout beside a SecurityModuleConfig one, each against its floor"
	@echo "make bench-many-hubs    one operator on 20 and 100 hubs at once, time to all Ready against the slowest hub's floor"
	@echo "make bench-million      one operator on 10 emulated hubs of 100,000 devices (needs ~10 GB free): Ready, memory, resync quotas"
	@echo "make bench-emulator     the emulator's own ceiling with a minimal client beside the operator's client (sync)"
	@echo "make soak      the reliability suite's long variants (test/reliability/, RELIABILITY_SOAK=1)"

# npm ci first; a registry mirror that lacks some platforms' optional packages (Biome's) makes npm ci refuse a
# lock file npm install accepts, so fall back to npm install, which keeps the locked versions.
$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=silent || npm install --no-audit --no-fund --loglevel=error
	@touch $@

install: $(NODE_MODULES)

build: install
	npx tsc -p tsconfig.json

generate: install
	npx tsx scripts/generate.ts

# Builds only when tools/local-control-plane changed (or nothing is built yet); needs Go.
control-plane:
	@bash scripts/build-control-plane.sh

# What a local node adds to the control plane (scripts/with-local-node.ts, test/install/helm-node.test.ts), from the
# same Go module and Kubernetes release, built only when that module changed; needs Go and a C compiler (pause).
node:
	@bash scripts/build-control-plane.sh node

# Small Go programs the tests run, each built only when its sources changed (first build about 1.5 min, then
# seconds): tools/lua-health runs an Argo CD health check as Argo CD does (gopher-lua), tools/kstatus judges an
# object as Flux's wait does, tools/helm is Helm itself (the chart's tests; first build about 4 min).
test-tools:
	@bash scripts/build-go-tool.sh lua-health
	@bash scripts/build-go-tool.sh kstatus
	@bash scripts/build-go-tool.sh flux-health
	@bash scripts/build-go-tool.sh helm

# The container image (docs/container-image.md); its base images are rebuilt only when their recipe changes.
image:
	@bash scripts/build-image.sh

test: build control-plane node test-tools
	npm test --silent

# The suite again on Node 24 or 22 (the LTS lines; CI runs both besides the machine's Node): the official binary the
# npm registry serves, its integrity pinned in scripts/install-node.sh, first on PATH so that every node the suite
# starts is that one.
test-node22 test-node24: test-node%: build control-plane node test-tools
	@dir=$$(bash scripts/install-node.sh $*) && export PATH="$$PWD/$$dir/bin:$$PATH" && \
	  node -e 'if (!process.version.startsWith("v$*.")) { console.error(`test-node$*: node is $${process.version}`); process.exit(1) }' && \
	  echo "test-node$*: the suite on Node $$(node --version)" && npm test --silent

lint: install
	npx biome check .
	npx tsc -p tsconfig.json --noEmit

format: install
	npx biome check --write .

# The operator on a local control plane (built on first run), or on the cluster KUBECONFIG names.
demo: build
	@if [ -z "$$KUBECONFIG" ]; then bash scripts/build-control-plane.sh; fi
	$(CLI) demo

# Every contender side by side on fresh emulated hubs (BENCH_LARGE=1 adds 100,000 devices); writes bench/results/.
bench: build control-plane
	npx tsx bench/rollout.bench.ts

# A TwinConfig on 10,000 IoT Plug and Play thermostats beside the SecurityModuleConfig baseline on 10,000 agents, by
# sync --wait and the controller, each against its quota floor (BENCH_ROUNDS=3 for the median and range); writes
# bench/results/twin-config.{json,md}.
bench-twin-config: build control-plane
	npx tsx bench/twin-config.bench.ts

# One operator rolling out to 20 and then 100 emulated hubs at once, each with its own quota, with --max-concurrent-hubs 4
# (the old default) and with none (the default): time to every resource Ready against the slowest hub's floor
# (BENCH_SCENARIOS, BENCH_CAPS, BENCH_OPERATOR_REPO: see the file); writes bench/results/many-hubs.{json,md}.
bench-many-hubs: install control-plane
	npx tsx bench/many-hubs.bench.ts

# A million devices in one operator: 10 emulator processes (BENCH_HUBS) of 100,000 devices (BENCH_DEVICES_PER_HUB),
# S3 x10 each: time to every resource Ready against the slowest hub's floor, the operator's CPU, peak RSS and RSS
# after a steady resync of all hubs, each hub's queries in that resync against its quota, the emulators' RSS and the
# machine's free memory at its lowest; writes bench/results/million.{json,md}. Scale it down to try it, e.g.
# BENCH_HUBS=10 BENCH_DEVICES_PER_HUB=2000.
bench-million: install control-plane
	npx tsx bench/million.bench.ts

# The emulator's ceiling on this machine with a minimal client (twin PATCHes/s, query pages/s, throttling off)
# beside the operator's client (sync's twin updates/s, its rate limit above the ceiling), and which one bounds a
# cold rollout at S3 x10; then the memory of 100,000 seeded devices (BENCH_SYNC_DEVICES sizes sync's hub).
bench-emulator: install
	npx tsx bench/emulator.bench.ts

# The reliability suite at full length: more devices, more rounds, longer outages (short variants run in make test).
soak: build control-plane
	RELIABILITY_SOAK=1 npx tsx scripts/scan-suite-output.ts npx tsx scripts/with-control-plane.ts node --import tsx --test --test-concurrency=1 $$(find test/reliability -name '*.test.ts' | sort)

clean:
	rm -rf dist
