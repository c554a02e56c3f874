// Loading a large inventory: `tillwatch inventory targets` and the fleet simulator read the whole
// file and validate it: YAML with the config kit's reader (the `yaml` package), JSON natively. Measures
// the built packages in a child process per format, so each peak RSS is that load's own.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDemoInventory, renderInventory } from '@tillwatch/inventory';

const root = fileURLToPath(new URL('..', import.meta.url));
// The demo chain's layout (2-3 tills per store, four to six devices per till), one loopback port per till.
const STORES = Number(process.env.BENCH_INVENTORY_STORES ?? 20_000);
const dir = join(root, '.tmp', 'bench');
mkdirSync(dir, { recursive: true });
const inv = generateDemoInventory({ stores: STORES, tillsPerStore: { min: 2, max: 3 }, basePort: 10_000 });
const files = { YAML: join(dir, 'inventory.yml'), JSON: join(dir, 'inventory.json') };
writeFileSync(files.YAML, renderInventory(inv));
writeFileSync(files.JSON, JSON.stringify(inv));

interface Result {
  tills: number;
  loadMs: number;
  renderMs: number;
  jsonBytes: number;
  maxRssKiB: number;
}

function measure(file: string): Result {
  const child = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { loadInventory, iterateTills } from '@tillwatch/inventory';
       import { renderFileSd } from '@tillwatch/ops';
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
    console.error(`the load of ${file} failed with exit code ${child.status}`);
    process.exit(1);
  }
  return JSON.parse(child.stdout) as Result;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const rows = Object.entries(files).map(([format, file]) => {
  const r = measure(file);
  return `| ${format} (${mb(statSync(file).size)} MB) | ${r.tills.toLocaleString('en')} | ${(r.loadMs / 1000).toFixed(1)} s | ${(r.maxRssKiB / 1024).toFixed(0)} MiB | ${(r.renderMs / 1000).toFixed(1)} s |`;
});
console.log(`Inventory of ${STORES.toLocaleString('en')} stores (the demo chain's layout):

| format | tills | load and validate (\`loadInventory\`) | peak RSS | render file_sd JSON |
| --- | --- | --- | --- | --- |
${rows.join('\n')}
`);
