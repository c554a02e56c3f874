// Loading a large inventory: `tillwatch inventory targets` and the fleet simulator read the whole
// YAML file with the config kit's reader (the `yaml` package) and validate it. Measures the built
// @tillwatch/ops in a child process, so the peak RSS is the load's own and not this script's.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDemoInventory, renderInventory } from '@tillwatch/ops';

const root = fileURLToPath(new URL('..', import.meta.url));
// The demo chain's layout (2-3 tills per store, four to six devices per till), one loopback port per till.
const STORES = Number(process.env.BENCH_INVENTORY_STORES ?? 20_000);
const dir = join(root, '.tmp', 'bench');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'inventory.yml');
const inv = generateDemoInventory({ stores: STORES, tillsPerStore: { min: 2, max: 3 }, basePort: 10_000 });
writeFileSync(file, renderInventory(inv));

const child = spawnSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `import { loadInventory, iterateTills, renderFileSd } from '@tillwatch/ops';
     const t0 = performance.now();
     const inv = loadInventory(${JSON.stringify(file)});
     const t1 = performance.now();
     const json = renderFileSd(inv);
     const t2 = performance.now();
     console.log(JSON.stringify({ tills: [...iterateTills(inv)].length, loadMs: t1 - t0, renderMs: t2 - t1,
       jsonBytes: json.length, maxRssKiB: process.resourceUsage().maxRSS }));`,
  ],
  { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
);
if (child.status !== 0) {
  console.error(`the load failed with exit code ${child.status}`);
  process.exit(1);
}
const r = JSON.parse(child.stdout) as {
  tills: number;
  loadMs: number;
  renderMs: number;
  jsonBytes: number;
  maxRssKiB: number;
};
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
console.log(`Inventory of ${r.tills.toLocaleString('en')} tills (${STORES.toLocaleString('en')} stores, ${mb(statSync(file).size)} MB of YAML):

| step | time | peak RSS |
| --- | --- | --- |
| load and validate (\`loadInventory\`) | ${(r.loadMs / 1000).toFixed(1)} s | ${(r.maxRssKiB / 1024).toFixed(0)} MiB |
| render file_sd JSON (${mb(r.jsonBytes)} MB) | ${(r.renderMs / 1000).toFixed(1)} s | |
`);
