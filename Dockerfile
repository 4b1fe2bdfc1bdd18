# syntax=docker/dockerfile:1
#
# cron-connector image: compile and pack with the full toolchain, install the packed package with
# exactly the production dependencies package-lock.json records, and run on distroless Node.js 24
# as a non-root user with no writable filesystem, no shell and no package manager.
#
#   docker build -t ghcr.io/openfaas/cron-connector-ts:0.1.0 --build-arg VERSION=0.1.0 .
#
# The runtime image needs nothing writable, so it runs with readOnlyRootFilesystem: true.

ARG NODE_IMAGE=node:24-bookworm-slim
# Same Debian release as the build image; override with a digest to pin it.
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# -- 1. build: compile TypeScript and pack the package exactly as `npm publish` would.
FROM ${NODE_IMAGE} AS build
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
# .dockerignore lets in only what the build reads (sources, tsconfigs, README, LICENSE, and
# docker/, which stage 2 reads).
COPY . .
RUN npm run build \
 && mkdir /pack \
 && npm pack --pack-destination /pack \
 && mv /pack/cron-connector-*.tgz /pack/cron-connector.tgz

# -- 2. install: the packed package and exactly the production dependencies of package-lock.json
# (the lockfile stage 1 installed from), no lifecycle scripts. The tarball holds no lockfile (`npm
# pack` leaves it out), so `npm install` of it would resolve the dependency ranges afresh, to
# versions no test ran. Instead `npm ci` installs the lockfile's tree beside the tarball's
# package.json: the same versions at the same paths, dev dependencies omitted, each tarball
# checked against the lockfile's integrity (and it fails if package.json and the lockfile
# disagree). The package itself goes where `npm install` would put it, node_modules/cron-connector;
# then package.json and the lockfile go, so no package.json near the launcher decides its module
# kind. test/integration/package.test.ts replays this stage's COPYs and RUNs as written.
FROM ${NODE_IMAGE} AS install
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY --from=build /pack/cron-connector.tgz /src/package-lock.json /tmp/
RUN --mount=type=cache,target=/root/.npm \
    tar -xzf /tmp/cron-connector.tgz -C /tmp --no-same-owner \
 && mkdir /app \
 && cp /tmp/package/package.json /tmp/package-lock.json /app/ \
 && npm ci --prefix /app --omit=dev --ignore-scripts \
 && mv /tmp/package /app/node_modules/cron-connector \
 && test -f /app/node_modules/cron-connector/dist/main.js \
 && rm /app/package.json /app/package-lock.json
# The `cron-connector` command (kubectl exec ... -- cron-connector doctor): the package's bin has a
# `#!/usr/bin/env node` shebang, and the runtime image has no /usr/bin/env and no shell, so this
# launcher, whose shebang is the ENTRYPOINT's node, imports dist/main.js relative to itself.
# Read-only for everyone, owned by root; the build fails here if it does not reach main.js.
COPY docker/cron-connector /app/bin/cron-connector
RUN chmod 0555 /app/bin/cron-connector \
 && node /app/bin/cron-connector --version

# -- 3. runtime
FROM ${RUNTIME_IMAGE}
ARG VERSION=dev
LABEL org.opencontainers.image.title="cron-connector" \
      org.opencontainers.image.description="IAM-scoped cron event connector for OpenFaaS" \
      org.opencontainers.image.source="https://github.com/openfaas/cron-connector-ts" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}"
# PATH: /app/bin (the cron-connector command) and /nodejs/bin (node) ahead of the PATH distroless
# sets in its base image (the nodejs images add none), spelled out rather than ${PATH}. `kubectl
# exec` runs with the container's environment, so the command resolves by name and `doctor` reads
# the same variables as the daemon.
ENV NODE_ENV=production \
    PATH=/app/bin:/nodejs/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /app
COPY --from=install /app/node_modules /app/node_modules
COPY --from=install /app/bin /app/bin
# Numeric, so Kubernetes can verify runAsNonRoot without a runAsUser in the Pod spec.
USER 65532:65532
# http_port: /healthz, /readyz, /metrics
EXPOSE 8081
# Exec form: node is PID 1 and receives SIGTERM itself; the connector handles SIGTERM/SIGINT
# (drains in-flight invocations within shutdown_timeout) and starts no child processes, so no
# init process is needed. /nodejs/bin/node is where distroless keeps node; with a node:24-*
# runtime image use /usr/local/bin/node, here and in the shebang of docker/cron-connector.
# V8 flags, each measured by npm run bench (BENCHMARKS.md), which runs the connector with the
# node flags of this line (so does the package test, which fails if this node rejects one):
#   --min/--max-semi-space-size=4 (MB) fix the young generation at 4 MB: a burst of invocations
#     otherwise grows it to tens of MB of short-lived garbage (RSS at 1,000 functions on one
#     slot, measured at 0decd58: 186 MB without it, 137 MB with it, same lateness), and starting
#     it at its full size saves a discovery pass the scavenges of a growing one;
#   --heap-growing-percent=35 grows the old generation by 1.35x at a time instead of V8's dynamic
#     factor: peak RSS of discovery at 100,000 functions 234-279 MB without it, 211-245 MB with
#     it (BENCHMARKS.md; BENCH_IMAGE_FLAGS=0 npm run bench measures without the flags);
#   --always-sparkplug compiles a function to V8's baseline code on its first call instead of
#     interpreting it until it is warm: the first slot after a start runs the dispatch path cold
#     (1,000 functions on one slot, first-slot p99 in BENCHMARKS.md's per-slot table: 302-337 ms
#     without it, 172-259 ms with it, RSS +2 MB; BENCH_NODE_ARGS=--no-always-sparkplug
#     node bench/run.ts --only=lateness measures without it).
ENTRYPOINT ["/nodejs/bin/node", "--min-semi-space-size=4", "--max-semi-space-size=4", "--heap-growing-percent=35", "--always-sparkplug", "/app/node_modules/cron-connector/dist/main.js"]
