// The few promise-returning fs calls the always-on collectors make, from node:fs's callback API rather
// than node:fs/promises: on Node.js 22+ importing node:fs/promises also loads readline and the REPL's
// history module (for FileHandle#readLines), RSS the exporter never uses (docs/benchmarks.md,
// "Exporter"). The collectors that need a FileHandle (log, kernel-log) load node:fs/promises when
// they first open a file (lazy-builtins.ts).
import { mkdir as mkdirCb, readdir as readdirCb, readFile as readFileCb, rename as renameCb } from 'node:fs';
import { stat as statCb, writeFile as writeFileCb } from 'node:fs';
import { promisify } from 'node:util';

export const readFile = promisify(readFileCb);
export const readdir = promisify(readdirCb);
export const mkdir = promisify(mkdirCb);
export const rename = promisify(renameCb);
export const writeFile = promisify(writeFileCb);
export const stat = promisify(statCb);
