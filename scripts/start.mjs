// `npm start`: the main job. Prepares a fresh clone (Debian packages, npm ci, build), then runs
// TillWatch on this machine without Docker and stops everything on Ctrl-C.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureAll, root } from './ensure-deps.mjs';

ensureAll();

const children = [];
function startService(name, cmd, args) {
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping the stack`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

startService('exporter', process.execPath, [
  join(root, 'exporter', 'dist', 'cli.js'),
  '--config',
  join(root, 'exporter', 'examples', 'minimal.yml'),
  '--web.listen-address=127.0.0.1:9835',
]);
console.log('TillWatch exporter: http://127.0.0.1:9835/metrics  (Ctrl-C stops)');
