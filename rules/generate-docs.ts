// `npm run docs:generate`: rewrites the generated blocks of rules/thresholds.md and docs/runbooks.md from
// rules/*.yml, then lists what the generator cannot write (prose naming another `for`). `--check` writes
// nothing and exits 1 when anything is out of date (rules/docs-drift.test.ts runs the same checks).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATE_COMMAND, generateDocs, proseDrift } from './lib/alert-docs.js';
import { REPO_DIR } from './lib/rule-files.js';

const check = process.argv.includes('--check');
let failed = false;
for (const doc of generateDocs()) {
  if (doc.current === doc.expected) continue;
  if (check) {
    console.error(`${doc.path}: out of date with rules/*.yml: run ${GENERATE_COMMAND}`);
    failed = true;
  } else {
    writeFileSync(join(REPO_DIR, doc.path), doc.expected);
    console.log(`${doc.path}: regenerated`);
  }
}
// Whatever is left once the blocks are fresh is hand-written text to fix by hand.
const prose = proseDrift();
for (const p of prose) console.error(p);
if (prose.length) console.error(`${prose.length} hand-written statement(s) disagree with rules/*.yml`);
process.exitCode = failed || prose.length ? 1 : 0;
