import { readFileSync } from 'node:fs';

function readJson(relative: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

// scripts/bundle.mjs writes build-info.json into dist/, beside the bundled CLI and the library, at build
// time: a till has the built files, not the git checkout they came from.
const build = readJson('./build-info.json');

/** The package version: from the build, else from package.json (one level above src/ and dist/). */
export const VERSION: string =
  (build?.version as string | undefined) ??
  (readJson('../package.json')?.version as string | undefined) ??
  'unknown';

/** The git commit the exporter was built from ("unknown" when run from sources or built outside git). */
export const REVISION: string = (build?.revision as string | undefined) ?? 'unknown';
