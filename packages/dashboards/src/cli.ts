#!/usr/bin/env node
// `tillwatch-dashboards --out DIR`: writes every dashboard's JSON. main() takes argv and streams so
// tests run it in-process.
import { realpathSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { writeDashboards } from './index.js';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

const USAGE = 'usage: tillwatch-dashboards --out DIR';

export async function main(
  args: string[],
  io: Io = { out: console.log, err: console.error },
): Promise<number> {
  let out: string | undefined;
  try {
    out = parseArgs({ args, options: { out: { type: 'string' } } }).values.out;
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!out) {
    io.err(`--out is required\n${USAGE}`);
    return 2;
  }
  try {
    const written = await writeDashboards(out);
    io.out(`wrote ${written.length} dashboards: ${written.join(', ')}`);
    return 0;
  } catch (err) {
    io.err(`error: ${(err as Error).message}`);
    return 1;
  }
}

// Run only as the bin, not when a test imports main().
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
