// A password-guessing client for the soak (issue 23: "80 connections sending wrong passwords"): N
// keep-alive connections, each sending the next request with a fresh wrong password as soon as the
// last one is answered. Runs as its own process so its CPU and event loop are not the scraper's.
//   node --import tsx password-flood.ts URL CONNECTIONS USER SECONDS
// Stops after SECONDS or on SIGTERM and prints {"requests":N,"byStatus":{...},"errors":N} on stdout.
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';

const [url = '', connections = '80', user = 'prometheus', seconds = '60'] = process.argv.slice(2);
if (!url.startsWith('http://127.0.0.1:') && !url.startsWith('http://[::1]:')) {
  // The soak only ever targets a loopback exporter.
  throw new Error(`password-flood: expected a loopback http URL, got ${url}`);
}
const agent = new Agent({ keepAlive: true, maxSockets: Number(connections) });
const counts = { requests: 0, byStatus: {} as Record<string, number>, errors: 0 };
let running = true;

function once(): Promise<void> {
  return new Promise((resolve) => {
    const auth = Buffer.from(`${user}:${randomBytes(9).toString('base64')}`).toString('base64');
    const req = request(url, { agent, headers: { Authorization: `Basic ${auth}` } }, (res) => {
      res.resume();
      res.on('end', () => {
        counts.requests += 1;
        const k = String(res.statusCode);
        counts.byStatus[k] = (counts.byStatus[k] ?? 0) + 1;
        resolve();
      });
    });
    req.on('error', () => {
      counts.errors += 1;
      // A refused or dropped connection: back off a little rather than spin.
      setTimeout(resolve, 10);
    });
    req.end();
  });
}

async function worker(): Promise<void> {
  while (running) await once();
}

function stop(): void {
  running = false;
}
process.once('SIGTERM', stop);
const deadline = setTimeout(stop, Number(seconds) * 1000);
await Promise.all(Array.from({ length: Number(connections) }, worker));
clearTimeout(deadline);
agent.destroy();
process.stdout.write(`${JSON.stringify(counts)}\n`);
