// A harmless stand-in for a service restart in tests: appends its argv (as JSON) to the file named by
// its first argument and exits with the code given by TW_EXIT (default 0).
import { appendFileSync } from 'node:fs';
const [file, ...rest] = process.argv.slice(2);
appendFileSync(file, `${JSON.stringify(rest)}\n`);
process.stdout.write(`restarted ${rest.join(' ')}\n`);
process.exit(Number(process.env.TW_EXIT ?? 0));
