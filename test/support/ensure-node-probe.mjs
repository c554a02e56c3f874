// Run by test/ensure-node.test.ts under an old Node.js: ensureNode() re-runs this file under the installed LTS,
// which prints the version it runs on; with `wait`, it then waits for a signal and prints its name (the handlers
// are in place before the version line, which the test waits for before it signals).
import { ensureNode } from '../../scripts/ensure-deps.mjs';

await ensureNode();
if (process.argv[2] === 'wait') {
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      console.log(`got ${sig}`);
      process.exit(0);
    });
  }
  setInterval(() => {}, 1000);
}
console.log(`running on ${process.version}`);
