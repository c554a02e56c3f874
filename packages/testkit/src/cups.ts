// A real CUPS scheduler (Debian's cupsd) on a loopback port with its own configuration, spool and state
// under a temporary directory, for the printer collector's tests. The print device behind each queue is a
// small backend script standing in for a USB receipt printer: it reports what the test writes to its
// device-state file through the backend STATE: protocol (media-empty-error, cover-open-error...), holding
// the job as a real backend does while the printer cannot print, and finishes the job once the state is
// cleared. Everything else (queues, jobs, printer-state-reasons, IPP) is cupsd's own.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOOPBACK, freePort } from './ports.js';
import { startProcess, type Proc } from './process.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export interface RunningCups {
  /** 127.0.0.1:port, for lp/lpadmin -h. */
  server: string;
  port: number;
  /** ipp://127.0.0.1:port/printers/NAME */
  printerUri(name: string): string;
  /** Adds a raw queue whose device is the stand-in backend. */
  addPrinter(name: string): Promise<void>;
  /** What the device reports from now on: printer-state-reasons keywords, none for a healthy printer. */
  setDeviceState(name: string, ...reasons: string[]): void;
  /** Submits a small job to the queue. */
  print(name: string): Promise<void>;
  stop(): Promise<void>;
}

const BACKEND = `#!/bin/sh
# Stand-in for a receipt printer's backend: no arguments = device discovery.
if [ $# -eq 0 ]; then echo 'direct tillwatch-test "Unknown" "TillWatch test receipt printer"'; exit 0; fi
STATE="$(dirname "$0")/../../device-state/$PRINTER"
while :; do
  s=$(cat "$STATE" 2>/dev/null)
  if [ -z "$s" ]; then echo "STATE: none" >&2; cat > /dev/null; exit 0; fi
  echo "STATE: $s" >&2
  sleep 0.2
done
`;

export async function startCups(): Promise<RunningCups> {
  const root = mkdtempSync(join(tmpdir(), 'tillwatch-cups-'));
  for (const d of ['bin/backend', 'bin/filter', 'spool', 'tmp', 'state', 'cache', 'device-state'])
    mkdirSync(join(root, d), { recursive: true });
  symlinkSync('/usr/lib/cups/daemon', join(root, 'bin', 'daemon'));
  symlinkSync('/usr/lib/cups/notifier', join(root, 'bin', 'notifier'));
  writeFileSync(join(root, 'bin', 'backend', 'tillwatch-test'), BACKEND, { mode: 0o755 });
  const port = await freePort();
  writeFileSync(
    join(root, 'cupsd.conf'),
    [
      `Listen ${LOOPBACK}:${port}`,
      // No DNS-SD, no browsing: nothing leaves loopback.
      'Browsing No',
      'BrowseLocalProtocols none',
      'WebInterface No',
      'DefaultAuthType None',
      'LogLevel warn',
      '<Location />',
      '  Order allow,deny',
      '  Allow all',
      '</Location>',
      '<Policy default>',
      '  <Limit All>',
      '    Order deny,allow',
      '  </Limit>',
      '</Policy>',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(root, 'cups-files.conf'),
    [
      `ServerRoot ${root}`,
      `ServerBin ${join(root, 'bin')}`,
      `RequestRoot ${join(root, 'spool')}`,
      `TempDir ${join(root, 'tmp')}`,
      `StateDir ${join(root, 'state')}`,
      `CacheDir ${join(root, 'cache')}`,
      `ErrorLog ${join(root, 'error_log')}`,
      `AccessLog ${join(root, 'access_log')}`,
      `PageLog ${join(root, 'page_log')}`,
      'Sandboxing Relaxed',
      '',
    ].join('\n'),
  );
  // Backends run as the unprivileged lp user: it must read the device-state files.
  chmodSync(root, 0o755);
  const server = `${LOOPBACK}:${port}`;
  const proc: Proc = startProcess('cupsd', [
    '-f',
    '-c',
    join(root, 'cupsd.conf'),
    '-s',
    join(root, 'cups-files.conf'),
  ]);
  const stop = async () => {
    await proc.stop();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'cupsd to answer',
      async () => {
        if (proc.exited()) throw new Error(`cupsd exited:\n${proc.output()}`);
        return (await run('lpstat', ['-h', server, '-r']).catch(() => ({ stdout: '' }))).stdout.includes(
          'is running',
        );
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const stateFile = (name: string) => join(root, 'device-state', name);
  return {
    server,
    port,
    printerUri: (name) => `ipp://${server}/printers/${name}`,
    async addPrinter(name) {
      writeFileSync(stateFile(name), '', { mode: 0o644 });
      await run('lpadmin', ['-h', server, '-p', name, '-E', '-v', 'tillwatch-test:/', '-m', 'raw']);
    },
    setDeviceState(name, ...reasons) {
      writeFileSync(stateFile(name), reasons.join(','), { mode: 0o644 });
    },
    async print(name) {
      const file = join(root, 'tmp', `job-${Date.now()}.txt`);
      writeFileSync(file, 'TillWatch test receipt\n', { mode: 0o644 });
      await run('lp', ['-h', server, '-d', name, '-o', 'raw', file]);
    },
    stop,
  };
}
