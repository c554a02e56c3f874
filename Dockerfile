# One image for every TillWatch service of docker-compose.yml (fleet simulator, bridge, Telegram emulator,
# SMTP catcher, panel wall, the config renderer). Each service runs the same command as the native stack
# (scripts/stack/plan.ts); test/compose.test.ts checks that they match.
FROM node:20.20.2-bookworm-slim

# better-sqlite3 and the serial port bindings build from source when no prebuilt binary fits.
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
# Dev dependencies stay: the stack's helpers run through tsx and the wall is Vite's dev server.
RUN npm ci --no-audit --no-fund

COPY . .
RUN npm run build -w packages/config -w exporter -w packages/inventory -w ops -w simulator -w alert-bridge

CMD ["node", "--import", "tsx", "scripts/stack/cli.ts", "prepare"]
