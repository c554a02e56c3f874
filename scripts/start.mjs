// `npm start`: the main job. Prepares a fresh clone (Debian packages, npm ci, build), then runs the
// TillWatch demo stack on this machine without Docker (scripts/stack/: fleet simulator, Prometheus,
// Alertmanager, the bridge with a Telegram emulator and an SMTP catcher, the panel wall) and stops
// everything on Ctrl-C.
import { ensureAll } from './ensure-deps.mjs';

await ensureAll();

// The stack library is TypeScript shared with the tests; tsx (a root dev dependency, present once
// ensureAll has run npm ci) loads it without a separate build step.
const { register } = await import('tsx/esm/api');
register();
const { runStack } = await import('./stack/cli.ts');
process.exit(await runStack());
