// The README's test command. Prepares a fresh clone (scripts/ensure-deps.mjs), runs every suite:
// vitest for the Node packages, rules and end-to-end tests, and the panel's Jest (create-plugin
// toolchain); then prints one summary line `N passed, N failed, N skipped` and exits non-zero on failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureAll, root } from './ensure-deps.mjs';

await ensureAll();

const out = join(root, '.tmp', 'test-results');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const extra = process.argv.slice(2);
const totals = { passed: 0, failed: 0, skipped: 0 };
let crashed = false;
// Every failed test (and suite that did not load) as one line: file, test, first line of the error. Printed
// again just above the summary line, and kept in failures.txt, so the end of a long log says what failed.
const failures = [];
const firstLine = (text) =>
  String(text ?? '')
    // Colours of the test runner's output (ESC [ ... m), which a log file shows as noise.
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .find((l) => l.trim())
    ?.trim()
    .slice(0, 300) ?? '';

function add(file, label) {
  if (!existsSync(file)) {
    console.error(`${label}: no result file (${file}); counting the suite as failed`);
    totals.failed += 1;
    crashed = true;
    return;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  totals.passed += r.numPassedTests;
  totals.failed += r.numFailedTests;
  totals.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A suite that fails to load has no tests to count but must still fail the run.
  if (r.numFailedTestSuites > 0 && r.numFailedTests === 0) {
    totals.failed += r.numFailedTestSuites;
  }
  for (const suite of r.testResults ?? []) {
    const file = String(suite.name ?? '').replace(`${root}/`, '');
    const failed = (suite.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failed) failures.push(`${file} > ${a.fullName}: ${firstLine(a.failureMessages?.[0])}`);
    if (suite.status === 'failed' && failed.length === 0)
      failures.push(`${file}: ${firstLine(suite.message) || 'the suite failed'}`);
  }
}

const vitestJson = join(out, 'vitest.json');
const v = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`, ...extra],
  { stdio: 'inherit', cwd: root },
);
add(vitestJson, 'vitest');
if (v.status !== 0 && totals.failed === 0) crashed = true;

if (existsSync(join(root, 'grafana-plugin', 'package.json')) && extra.length === 0) {
  const jestJson = join(out, 'jest.json');
  const j = spawnSync('npm', ['run', 'test:ci', '--', '--json', `--outputFile=${jestJson}`], {
    stdio: 'inherit',
    cwd: join(root, 'grafana-plugin'),
  });
  add(jestJson, 'grafana-plugin jest');
  if (j.status !== 0 && totals.failed === 0) crashed = true;
}

writeFileSync(join(out, 'failures.txt'), failures.map((f) => `${f}\n`).join(''));
for (const f of failures) console.log(`FAILED ${f}`);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 || crashed ? 1 : 0);
