// `npm run bench`: runs every bench/*.bench.ts in turn (each prints a markdown report) and
// collects the reports into .tmp/bench/report.md. Pass names to run only some: `npm run bench -- exporter`
// (a name that is a whole bench runs just that one; otherwise every bench starting with it runs).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAll } from '../scripts/ensure-deps.mjs';

// The benches import the packages' builds (they run under tsx, without the tests' source aliases).
ensureAll();

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const only = process.argv.slice(2);
const all = readdirSync(here).filter((f) => f.endsWith('.bench.ts'));
const picks = (o) => (all.includes(`${o}.bench.ts`) ? (f) => f === `${o}.bench.ts` : (f) => f.startsWith(o));
const benches = all.filter((f) => only.length === 0 || only.some((o) => picks(o)(f))).sort();
const outDir = join(root, '.tmp', 'bench');
mkdirSync(outDir, { recursive: true });
let report = `# TillWatch benchmarks (${new Date().toISOString()})\n\n`;
let failed = 0;
for (const b of benches) {
  console.log(`\n=== ${b} ===`);
  const r = spawnSync('npx', ['tsx', join(here, b)], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(r.stdout ?? '');
  report += `## ${b}\n\n${r.stdout ?? ''}\n`;
  if (r.status !== 0) {
    failed += 1;
    report += `**failed with exit code ${r.status}**\n\n`;
  }
}
writeFileSync(join(outDir, 'report.md'), report);
console.log(`\nreport: ${join(outDir, 'report.md')}`);
process.exit(failed ? 1 : 0);
