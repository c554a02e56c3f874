// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');

// The scaffold's SWC options name no target, so SWC emits ES5, which runs the 500,000-leaf tests much slower
// than the ES2015+ code webpack ships (docs/benchmarks.md, "Panel"); test what ships instead.
const [swcPattern, [swc, swcOptions]] = Object.entries(base.transform)[0];
const swcTransform = [swc, { ...swcOptions, jsc: { ...swcOptions.jsc, target: 'es2020' } }];

module.exports = {
  // Jest configuration provided by Grafana scaffolding
  ...base,
  // Only this package's tests: the repo's vitest suites (test/, exporter/ ...) must never be picked up.
  rootDir: __dirname,
  roots: ['<rootDir>/src'],
  transform: {
    [swcPattern]: swcTransform,
    // Hoisted to the repo root, d3-color resolves to its .mjs build, which the scaffold's pattern misses.
    '^.+\\.mjs$': swcTransform,
  },
};
