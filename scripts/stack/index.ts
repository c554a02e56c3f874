// The stack supervisor as a library: `npm start` (scripts/start.mjs), test/stack-e2e.test.ts,
// bench/latency.bench.ts and test/compose.test.ts all use it.
export * from './plan.js';
export * from './supervisor.js';
