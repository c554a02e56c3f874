# One image for every TillWatch service of docker-compose.yml (fleet simulator, bridge, Telegram emulator,
# SMTP catcher, panel wall, the config renderer). Each service runs the same command as the native stack
# (scripts/stack/plan.ts); test/compose.test.ts checks that they match, test/dockerfile.test.ts the stages below.
#
# Two stages on the current Node.js LTS (the version the .deb ships and CI's node24 leg runs,
# scripts/ensure-deps.mjs NODE_LTS), pinned to the exact release:
#   build:   compilers for better-sqlite3 and the serial port bindings (built from source: their prebuilt
#            binaries are on GitHub), every dependency, the build;
#   runtime: the built tree only, no compilers or package lists, run as the image's unprivileged `node` user.
# The runtime keeps the dev dependencies the demo's services run with: tsx (the stack's helpers load
# TypeScript) and Vite (the panel wall is its dev server).
FROM node:24.22.3-bookworm-slim AS build

RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Manifests first, so a source change does not reinstall every package.
COPY package.json package-lock.json ./
COPY packages/config/package.json packages/config/
COPY exporter/package.json exporter/
COPY packages/inventory/package.json packages/inventory/
COPY packages/dashboards/package.json packages/dashboards/
COPY packages/testkit/package.json packages/testkit/
COPY simulator/package.json simulator/
COPY alert-bridge/package.json alert-bridge/
COPY ops/package.json ops/
COPY grafana-plugin/package.json grafana-plugin/
RUN npm_config_build_from_source=true npm ci --no-audit --no-fund

COPY . .
RUN npm run build -w packages/config -w exporter -w packages/inventory -w ops -w simulator -w alert-bridge \
  && npm cache clean --force

FROM node:24.22.3-bookworm-slim AS runtime

WORKDIR /app
COPY --from=build --chown=node:node /app /app
# .tmp/stack is where the services share rendered configs and data (a bind mount in docker-compose.yml).
RUN mkdir -p /app/.tmp/stack && chown -R node:node /app/.tmp
USER node

# The default command renders the configs; healthy once they are there (each compose service probes its own
# ready URL instead).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('node:fs').accessSync('.tmp/stack/prometheus.yml')"]
CMD ["node", "--import", "tsx", "scripts/stack/cli.ts", "prepare"]
