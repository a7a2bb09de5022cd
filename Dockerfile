# Gantry container image. Build: `docker build -t gantry .` (BuildKit; see docs/deployment/docker.md).
#
# Stages, ordered so that a change under src/ reuses every dependency layer:
#   deps       npm ci (all dependencies, from the lockfile only)      ← package*.json
#   build      tsc → dist/, esbuild bundle → dist/cli/main.js          ← tsconfig*, src/
#   prod-deps  npm ci --omit=dev, pruned                               ← package*.json
#   dev        deps + source, `tsx watch` (compose.override.yaml)
#   distroless node binary, its shared libraries and CA certificates on scratch: no shell, no
#              package manager (`docker build --target distroless .`)
#   runtime    node:24-bookworm-slim without npm/yarn/corepack, non-root, read-only friendly
#              (the default: the last stage)
#
# No `# syntax=` line on purpose: BuildKit would pull the frontend image, and registries may be
# out of reach. Pin the base by digest for production builds with --build-arg NODE_IMAGE=…@sha256:….

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --no-audit --no-fund --loglevel=warn

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build --silent
# A data directory as initdb makes it (38 MB, 4 MB compressed), which a first start on the embedded
# database copies instead of running initdb: in less than a second instead of 3-5, and without
# initdb's memory (620 MB to 1.1 GB on Node 24, over the Kubernetes Deployment's 512 MiB limit).
RUN node --no-wasm-dynamic-tiering --no-wasm-tier-up dist/cli/pglite-initdb.js dist/pglite-template \
    && chmod -R a+rX dist/pglite-template
# V8's code cache for every module a start loads (NODE_COMPILE_CACHE), made by one start of the
# gateway with the node binary and the flags of the runtime stages, and read there from
# dist/.compile-cache (read-only; nothing is written at run time): a start skips compiling about
# 2.5 MB of JavaScript. Node keys the cache by user id, and the runtime stages run as 10001.
COPY migration[s] ./migrations/
RUN export NODE_COMPILE_CACHE=/tmp/compile-cache NODE_OPTIONS=--max-semi-space-size=32 \
           HOST=127.0.0.1 PORT=8999 DATA_DIR=/tmp/warm-data \
    && (node dist/cli/main.js serve > /tmp/warm.log 2>&1 & echo $! > /tmp/warm.pid) \
    && for attempt in $(seq 300); do \
         node dist/cli/main.js healthcheck --url http://127.0.0.1:8999/startup 2>/dev/null && break; \
         sleep 0.2; \
       done \
    && node dist/cli/main.js healthcheck --url http://127.0.0.1:8999/startup \
    && kill -TERM "$(cat /tmp/warm.pid)" \
    && while kill -0 "$(cat /tmp/warm.pid)" 2>/dev/null; do sleep 0.1; done \
    && mkdir dist/.compile-cache \
    && for dir in /tmp/compile-cache/*-0; do \
         mv "$dir" "dist/.compile-cache/$(basename "${dir%-0}")-10001"; \
       done \
    && chmod -R a+rX dist/.compile-cache \
    && rm -rf /tmp/compile-cache /tmp/warm-data /tmp/warm.log /tmp/warm.pid

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
# TypeScript sources and declarations (node never runs .ts files under node_modules), source
# maps and docs are never loaded at run time.
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --omit=dev --no-audit --no-fund --loglevel=warn \
    && find node_modules -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' \
         -o -name '*.map' -o -iname 'README*' -o -iname 'CHANGELOG*' -o -iname 'HISTORY.md' \) -delete \
    && rm -rf node_modules/.package-lock.json

# Development target for compose.override.yaml: all dependencies, source bind-mounted, reload.
FROM deps AS dev
ENV NODE_ENV=development DATA_DIR=/data
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migration[s] ./migrations/
RUN mkdir -p /data && chown 10001:10001 /data
USER 10001:10001
EXPOSE 8000
CMD ["node", "node_modules/tsx/dist/cli.mjs", "watch", "--clear-screen=false", "src/cli/main.ts", "serve"]

# Distroless-like variant, built from the same stages: what gcr.io/distroless/nodejs gives, made
# from the node image itself (docs/deployment/docker.md shows the gcr.io base where it can be pulled).
FROM ${NODE_IMAGE} AS distroless-rootfs
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /rootfs/usr/local/bin /rootfs/etc/ssl/certs /rootfs/tmp /rootfs/data /rootfs/app \
    && cp /usr/local/bin/node /rootfs/usr/local/bin/node \
    && for library in $(ldd /usr/local/bin/node | grep -o '/[^ ]*'); do \
         cp --parents --dereference "$library" /rootfs; \
       done \
    && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
    && printf 'root:x:0:0:root:/root:/sbin/nologin\ngantry:x:10001:10001:gantry:/nonexistent:/sbin/nologin\n' \
         > /rootfs/etc/passwd \
    && printf 'root:x:0:\ngantry:x:10001:\n' > /rootfs/etc/group \
    && chmod 1777 /rootfs/tmp \
    && chown 10001:10001 /rootfs/data \
    && chmod 0750 /rootfs/data

FROM scratch AS distroless
COPY --from=distroless-rootfs /rootfs/ /
ENV PATH=/usr/local/bin \
    NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=32 \
    NODE_COMPILE_CACHE=/app/dist/.compile-cache \
    MALLOC_TRIM_THRESHOLD_=4194304 \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json ./
COPY migration[s] ./migrations/
COPY --from=build /app/dist ./dist
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
# Exec form: there is no shell to run anything else.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "dist/cli/main.js", "healthcheck"]
CMD ["node", "dist/cli/main.js", "serve"]
ARG SOURCE=https://github.com/gantry-gateway/gantry
ARG REVISION=unknown
ARG VERSION=0.0.0-dev
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="gantry" \
      org.opencontainers.image.description="OpenAI-compatible LLM gateway (distroless)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.created="${CREATED}"

FROM ${NODE_IMAGE} AS runtime
# CA certificates: upstream providers are HTTPS (the official slim image ships none).
# npm, npx, corepack and yarn are removed: nothing installs packages at run time, and a package
# manager in a production image is attack surface. The numeric user (>= 10000) satisfies
# Kubernetes runAsNonRoot checks without a passwd lookup.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/* \
    && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
              /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
              /usr/local/bin/yarn /usr/local/bin/yarnpkg /usr/local/include/node \
              /root/.npm /tmp/* \
    && groupadd --gid 10001 gantry \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
               --shell /usr/sbin/nologin gantry \
    && mkdir -p /data \
    && chown 10001:10001 /data \
    && chmod 0750 /data

# A 32 MiB young generation (V8's default is 16): fewer scavenges per request; measured 6-15 %
# less CPU per request and a lower latency tail (docs/benchmarks.md).
# A fixed 4 MiB malloc trim threshold: glibc otherwise raises it, up to 64 MiB, each time a large
# block is freed, and then keeps what the embedded database's start-up freed (measured idle RSS
# 293-309 MB without, 207-223 MB with; no more page faults per request). See docs/state.md.
# NODE_COMPILE_CACHE: the code cache the build stage made (see there).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=32 \
    NODE_COMPILE_CACHE=/app/dist/.compile-cache \
    MALLOC_TRIM_THRESHOLD_=4194304 \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/data
WORKDIR /app

# Code and dependencies stay owned by root: the gateway cannot modify itself.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json ./
COPY migration[s] ./migrations/
COPY --from=build /app/dist ./dist

# Embedded PGlite state. The only writable paths are /data and /tmp (run with --read-only).
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "dist/cli/main.js", "healthcheck"]
# node is PID 1 and handles SIGTERM itself (graceful drain); no shell, no npm in between.
ENTRYPOINT []
CMD ["node", "dist/cli/main.js", "serve"]

# Last, so that new values never invalidate the layers above.
ARG SOURCE=https://github.com/gantry-gateway/gantry
ARG REVISION=unknown
ARG VERSION=0.0.0-dev
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="gantry" \
      org.opencontainers.image.description="OpenAI-compatible LLM gateway" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.created="${CREATED}"
