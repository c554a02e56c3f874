import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const exporterSrc = fileURLToPath(new URL('./exporter/src', import.meta.url));
const configSrc = fileURLToPath(new URL('./packages/config/src', import.meta.url));

// One vitest run covers every Node package plus the cross-package suites, so the
// root test command can sum them. The Grafana panel runs its own Jest (create-plugin toolchain).
export default defineConfig({
  resolve: {
    // Tests use the exporter's and the config kit's sources, so a test never runs a stale build.
    alias: [
      { find: /^@tillwatch\/config$/, replacement: `${configSrc}/index.ts` },
      { find: /^@tillwatch\/exporter$/, replacement: `${exporterSrc}/index.ts` },
      { find: /^@tillwatch\/exporter\/(.*)$/, replacement: `${exporterSrc}/$1` },
    ],
  },
  test: {
    projects: [
      { extends: true, test: { name: 'config', root: './packages/config', include: ['src/**/*.test.ts'] } },
      { extends: true, test: { name: 'exporter', root: './exporter', include: ['src/**/*.test.ts'] } },
      { extends: true, test: { name: 'simulator', root: './simulator', include: ['src/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'alert-bridge', root: './alert-bridge', include: ['src/**/*.test.ts'] },
      },
      { extends: true, test: { name: 'ops', root: './ops', include: ['src/**/*.test.ts'] } },
      { extends: true, test: { name: 'rules', root: './rules', include: ['**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', root: './test', include: ['**/*.test.ts'] } },
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests start real Prometheus, Alertmanager and browsers; keep parallelism within 2 cores.
    maxWorkers: 2,
  },
});
