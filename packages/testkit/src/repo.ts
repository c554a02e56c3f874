// Files of this repository that tests and benches read as shipped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory. */
export const REPO_DIR = fileURLToPath(new URL('../../..', import.meta.url));

/** A path inside the repository. */
export function repoPath(...parts: string[]): string {
  return join(REPO_DIR, ...parts);
}

/**
 * A shipped flags file (one flag a line, e.g. deploy/central/vmalert.flags), without the flags named
 * in `drop` (production paths and addresses the caller replaces).
 */
export function shippedFlags(path: string, drop: string[] = []): string[] {
  return readFileSync(repoPath(path), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('-'))
    .filter((l) => !drop.includes(l.slice(1).split('=')[0]!));
}
