// Prometheus watches file_sd files and may read one half-written; writing a temporary file in the
// same directory and renaming it over the target makes the switch atomic on POSIX filesystems.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomic(path: string, content: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  // A leading dot and a non-.json suffix keep Prometheus' `*.json` file_sd globs off the temp file.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, content, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
