// Data the product ships beside the `tillwatch` CLI (the bridge's knowledge base, the stack's Alertmanager
// config), found wherever it is installed: a checkout, the Docker image (/app) or an npm install, and
// from any working directory, since the CLI is run from wherever the operator stands.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (or image) root: ops/src/locate.ts and ops/dist/locate.js both sit two levels below. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export class NotFoundError extends Error {}

/** `candidates` in order, the first that exists; or an error listing every place that was tried. */
function firstExisting(what: string, flag: string, candidates: string[]): string {
  const tried = [...new Set(candidates.map((c) => resolve(c)))];
  const found = tried.find((c) => existsSync(c));
  if (found) return found;
  throw new NotFoundError(`${what} not found; looked in ${tried.join(', ')}; give ${flag}`);
}

/** node_modules/<name> in this module's folder and each folder above it (npm's own lookup order). */
function installed(name: string): string[] {
  const out: string[] = [];
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    out.push(join(dir, 'node_modules', name));
    if (dirname(dir) === dir) return out;
  }
}

/**
 * The alert bridge's knowledge base (cards with `expected_minutes` per incident class): `--knowledge-base`,
 * else $TILLWATCH_KNOWLEDGE_BASE, else the bridge shipped beside this CLI.
 */
export function knowledgeBaseDir(given?: string): string {
  if (given !== undefined) return firstExisting('knowledge base', '--knowledge-base DIR', [given]);
  const env = process.env.TILLWATCH_KNOWLEDGE_BASE;
  return firstExisting(
    "knowledge base (the alert bridge's knowledge-base/ folder)",
    '--knowledge-base DIR or set TILLWATCH_KNOWLEDGE_BASE',
    [
      ...(env ? [env] : []),
      join(ROOT, 'alert-bridge', 'knowledge-base'),
      ...installed('@tillwatch/alert-bridge').map((d) => join(d, 'knowledge-base')),
    ],
  );
}

/** The Alertmanager config of the shipped stack (deploy/alertmanager.yml), or undefined outside it. */
export function shippedAlertmanagerConfig(): string | undefined {
  const file = join(ROOT, 'deploy', 'alertmanager.yml');
  return existsSync(file) ? file : undefined;
}
