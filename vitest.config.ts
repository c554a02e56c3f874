import { defineConfig } from 'vitest/config';

// One vitest run covers every Node package plus the cross-package suites, so the
// root test command can sum them. The Grafana panel runs its own Jest (create-plugin toolchain).
export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'exporter', root: './exporter', include: ['src/**/*.test.ts'] } },
      { extends: true, test: { name: 'simulator', root: './simulator', include: ['src/**/*.test.ts'] } },
      { extends: true, test: { name: 'alert-bridge', root: './alert-bridge', include: ['src/**/*.test.ts'] } },
      { extends: true, test: { name: 'rules', root: './rules', include: ['**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', root: './test', include: ['**/*.test.ts'] } },
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests start real Prometheus/Alertmanager/PostgreSQL clients; keep parallelism within 2 cores.
    maxWorkers: 2,
  },
});
