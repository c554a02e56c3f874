import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The internal packages whose builds other packages import, by package name → folder. */
const PACKAGES: Record<string, string> = {
  config: 'packages/config',
  exporter: 'exporter',
  inventory: 'packages/inventory',
  dashboards: 'packages/dashboards',
  ops: 'ops',
  simulator: 'simulator',
  'alert-bridge': 'alert-bridge',
};

/**
 * Tests import internal packages from their sources, so a test never runs a stale dist/. Only the
 * entry points of each package's exports map are aliased: any other subpath falls through to Node's
 * resolution, which refuses it as not exported, the same as at run time.
 */
function sourceAliases(): { find: RegExp; replacement: string }[] {
  const aliases = [];
  for (const [name, dir] of Object.entries(PACKAGES)) {
    const pkg = JSON.parse(readFileSync(new URL(`./${dir}/package.json`, import.meta.url), 'utf8')) as {
      exports: Record<string, { default: string }>;
    };
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      const source = target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
      const specifier = `@tillwatch/${name}${subpath.slice(1)}`.replace(/[/.-]/g, '\\$&');
      aliases.push({
        find: new RegExp(`^${specifier}$`),
        replacement: fileURLToPath(new URL(`./${dir}/${source}`, import.meta.url)),
      });
    }
  }
  return aliases;
}

// One vitest run covers every Node package plus the cross-package suites, so the
// root test command can sum them. The Grafana panel runs its own Jest (create-plugin toolchain).
export default defineConfig({
  resolve: { alias: sourceAliases() },
  test: {
    projects: [
      { extends: true, test: { name: 'config', root: './packages/config', include: ['src/**/*.test.ts'] } },
      { extends: true, test: { name: 'exporter', root: './exporter', include: ['src/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'inventory', root: './packages/inventory', include: ['src/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'dashboards', root: './packages/dashboards', include: ['src/**/*.test.ts'] },
      },
      { extends: true, test: { name: 'testkit', root: './packages/testkit', include: ['src/**/*.test.ts'] } },
      { extends: true, test: { name: 'simulator', root: './simulator', include: ['src/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'alert-bridge', root: './alert-bridge', include: ['src/**/*.test.ts'] },
      },
      { extends: true, test: { name: 'ops', root: './ops', include: ['src/**/*.test.ts'] } },
      { extends: true, test: { name: 'rules', root: './rules', include: ['**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', root: './test', include: ['**/*.test.ts'] } },
      // The prediction-quality tooling lives with the bench that runs it at scale; its small run is a test.
      { extends: true, test: { name: 'bench', root: './bench', include: ['**/*.test.ts'] } },
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests start real Prometheus, Alertmanager and browsers; keep parallelism within 2 cores.
    maxWorkers: 2,
  },
});
