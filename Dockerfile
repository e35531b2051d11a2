# Tramline: one image for every role (api, worker, scheduler, all) and for `migrate`.
#
#   docker build -t tramline:dev .
#   docker run --rm -p 8080:8080 --read-only --tmpfs /tmp -v tramline-data:/data tramline:dev
#
# Three stages. `build` installs every dependency, compiles TypeScript (and the web app, when web/
# exists) into dist/ with `npm run build`, then prunes the development dependencies; `prod-deps` installs
# the production dependencies from the lockfile alone (cached across code changes). `runtime` starts
# from the same pinned Node.js image and receives only node_modules (production), dist/, bin/ and
# package.json: no compiler, no sources, no npm cache. Layers and expected size: docs/deploying.md.
#
# The base image is pinned to a full version. For a reproducible release, pin its digest too:
#   docker build --build-arg NODE_IMAGE=node:22.20.0-bookworm-slim@sha256:<digest> .
ARG NODE_IMAGE=node:22.20.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
# Dependencies first: this layer is reused by every build whose lockfile did not change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund \
 && npm cache clean --force
# .dockerignore keeps node_modules, .git, data folders, tests' output and deploy/aws out of the context.
COPY . .
# After the prune, the compiled CLI must still load: a runtime import of a development dependency
# fails the build here rather than in production.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && TRAMLINE_BUILD_CHECK=0 node bin/tramline.js --version

# Production dependencies alone, from the lockfile alone: while the lockfile does not change this stage
# is a cache hit, so the runtime's node_modules layer (≈ 245 MB) is the very same layer release after
# release and a code-only release ships only dist/ (≈ 1 MB). Same lockfile, same set as the build
# stage's pruned node_modules.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
ENV CI=true NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="Tramline" \
      org.opencontainers.image.description="Self-hostable, multi-tenant event gateway: durable publish, fan-out and signed webhook delivery" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="Tramline" \
      org.opencontainers.image.url="https://tramline.dev" \
      org.opencontainers.image.source="https://github.com/tramline/tramline" \
      org.opencontainers.image.documentation="https://github.com/tramline/tramline/blob/main/docs/deploying.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"

# A fixed uid/gid (10001, outside the base image's range) so Kubernetes' runAsUser, volume ownership
# and file permissions agree everywhere. The application files belong to root and are not writable by
# the process: the root filesystem can be mounted read-only. The only writable places are /data (the
# embedded database's folder, when DATABASE_URL is unset) and /tmp.
RUN groupadd --system --gid 10001 tramline \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin tramline \
 && mkdir -p /data \
 && chown 10001:10001 /data \
 && chmod 0700 /data

WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    TRAMLINE_METRICS_PORT=9464 \
    TRAMLINE_DATA_DIR=/data \
    TRAMLINE_SHUTDOWN_TIMEOUT=20s \
    TRAMLINE_BUILD_CHECK=0 \
    NPM_CONFIG_UPDATE_NOTIFIER=false

COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/bin ./bin
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root deploy/docker/healthcheck.mjs /usr/local/lib/tramline/healthcheck.mjs

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080 9464

# Roles with the API answer GET /healthz on PORT; worker and scheduler only serve /metrics on
# TRAMLINE_METRICS_PORT, so for them the check is that the port accepts a connection. Liveness only:
# readiness (/readyz, which fails while draining) is the load balancer's business.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "/usr/local/lib/tramline/healthcheck.mjs"]

# The gateway drains on SIGTERM (readiness fails, in-flight deliveries finish within
# TRAMLINE_SHUTDOWN_TIMEOUT, leases are handed back). Give it more than that before SIGKILL:
# `docker stop -t 30`, compose's stop_grace_period, Kubernetes' terminationGracePeriodSeconds.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/tramline.js"]
CMD ["start", "--role", "all"]
