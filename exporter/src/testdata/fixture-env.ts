// A complete fixture world for the exporter, all on loopback: TCP/HTTP/HTTPS servers, a DNS
// responder, an SNTP responder, a fake procfs and sysfs, a log file and a pinned clock. The golden
// test, the metric-contract test and the simulator's tests build on it. These servers are real
// sockets speaking the real protocols; only the host (procfs, sysfs, system figures) is a fixture.
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { close, closedPort, listen } from '@tillwatch/testkit';
import { registeredCollectors } from '../collector.js';
import { parseConfig, type ExporterConfig } from '../config.js';
import type { ExporterOptions } from '../exporter.js';
import type { SystemInfoSource } from '../host.js';

export const TESTDATA = fileURLToPath(new URL('.', import.meta.url));
/** The pinned wall clock of fixture runs: 2026-09-21T...Z, in ms. */
export const FIXTURE_NOW = 1_790_000_000_000;
/** The SNTP responder runs this far ahead of the pinned clock, so the host is 1.5 s behind. */
export const SNTP_AHEAD_MS = 1500;
export const OWN_COLLECTORS = ['system', 'clock', 'probe', 'process', 'log', 'disposable', 'peripheral'];

const NTP_EPOCH_OFFSET = 2_208_988_800;

/** An SNTP server that answers with `clock()` as its time. */
export async function startSntpResponder(clock: () => number): Promise<{ port: number; socket: Socket }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 48) return;
    const reply = Buffer.alloc(48);
    reply[0] = (0 << 6) | (4 << 3) | 4; // server mode
    reply[1] = 2; // stratum
    msg.copy(reply, 24, 40, 48); // originate = client's transmit
    const t = clock();
    for (const off of [32, 40]) {
      reply.writeUInt32BE(Math.floor(t / 1000) + NTP_EPOCH_OFFSET, off);
      reply.writeUInt32BE(Math.round(((t % 1000) / 1000) * 2 ** 32), off + 4);
    }
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { port: socket.address().port, socket };
}

/** A DNS responder that answers A queries for names in `zone` and NXDOMAIN for anything else. */
export async function startDnsResponder(zone: Record<string, string>): Promise<{ port: number; socket: Socket }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    let off = 12;
    const labels: string[] = [];
    while (off < msg.length && msg[off] !== 0) {
      const len = msg[off] as number;
      labels.push(msg.subarray(off + 1, off + 1 + len).toString('ascii'));
      off += len + 1;
    }
    const question = msg.subarray(12, off + 5);
    const qtype = msg.readUInt16BE(off + 1);
    const ip = zone[labels.join('.').toLowerCase()];
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    const answer = ip && qtype === 1;
    header.writeUInt16BE(0x8180 | (ip ? 0 : 3), 2); // response, RD, RA, rcode NOERROR/NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answer ? 1 : 0, 6);
    const parts = [header, question];
    if (answer) {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
      rr.writeUInt16BE(1, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(4, 10);
      ip.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
      parts.push(rr);
    }
    socket.send(Buffer.concat(parts), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { port: socket.address().port, socket };
}

/** Fixed figures for the system collector. */
export const fixtureSystemInfo: SystemInfoSource = {
  cpuUsage: async () => 0.25,
  memory: async () => ({ total: 4 * 1024 ** 3, available: 1.5 * 1024 ** 3 }),
  filesystems: async () => [
    { mountpoint: '/', size: 120e9, available: 30e9, type: 'ext4' },
    { mountpoint: '/run', size: 1e8, available: 1e8, type: 'tmpfs' },
    { mountpoint: '/var/log', size: 20e9, available: 2e9, type: 'ext4' },
  ],
  uptime: async () => 3600,
  temperatures: async () => [
    { sensor: 'cpu', celsius: 48 },
    { sensor: 'core0', celsius: 47 },
  ],
};

interface FakeProcess {
  pid: number;
  comm: string;
  cmdline: string[];
  /** clock ticks after boot */
  starttime: number;
  rssPages: number;
}

export const FIXTURE_BTIME = 1_789_990_000;

export function writeFakeProc(root: string, processes: FakeProcess[]): void {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'stat'), `cpu  1 2 3 4 5 6 7 0 0 0\nbtime ${FIXTURE_BTIME}\nprocesses 999\n`);
  for (const p of processes) {
    mkdirSync(join(root, String(p.pid)));
    // Fields 3..24 of /proc/<pid>/stat (index i is field i + 3): starttime is field 22, rss field 24.
    const fields: string[] = Array.from({ length: 22 }, () => '0');
    fields[0] = 'S';
    fields[19] = String(p.starttime);
    fields[20] = '123456789';
    fields[21] = String(p.rssPages);
    writeFileSync(join(root, String(p.pid), 'stat'), `${p.pid} (${p.comm}) ${fields.join(' ')} 0 0\n`);
    writeFileSync(join(root, String(p.pid), 'cmdline'), p.cmdline.join('\0') + '\0');
  }
}

export const FIXTURE_PROCESSES: FakeProcess[] = [
  { pid: 1, comm: 'systemd', cmdline: ['/sbin/init'], starttime: 10, rssPages: 3000 },
  { pid: 812, comm: 'java', cmdline: ['/opt/utm/jre/bin/java', '-jar', '/opt/utm/transport.jar'], starttime: 50_000, rssPages: 100_000 },
  { pid: 901, comm: 'pos', cmdline: ['/opt/pos/bin/pos', '--till', '01'], starttime: 60_000, rssPages: 50_000 },
  { pid: 902, comm: 'pos', cmdline: ['/opt/pos/bin/pos', '--worker'], starttime: 60_100, rssPages: 10_000 },
  { pid: 950, comm: 'weird ) name', cmdline: [], starttime: 70_000, rssPages: 1 },
];

export interface Fixture {
  dir: string;
  config: ExporterConfig;
  options: ExporterOptions;
  logFile: string;
  procRoot: string;
  close(): Promise<void>;
}

/** Builds the fixture world and a config that uses every non-fiscal collector against it. */
export async function startFixture(extra: Partial<ExporterOptions> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'tillwatch-fixture-'));
  const sntp = await startSntpResponder(() => FIXTURE_NOW + SNTP_AHEAD_MS);
  const dns = await startDnsResponder({ 'ofd.example.test': '10.20.30.40' });
  const http = createHttpServer((req, res) => {
    res.writeHead(req.url === '/down' ? 503 : 200, { 'Content-Type': 'text/plain' });
    res.end('ok\n');
  });
  const httpPort = await listen(http);
  const tls = {
    cert: readFileSync(join(TESTDATA, 'tls', 'server.crt')),
    key: readFileSync(join(TESTDATA, 'tls', 'server.key')),
  };
  const https = createHttpsServer(tls, (_req, res) => {
    res.writeHead(200);
    res.end('ok\n');
  });
  const httpsPort = await listen(https);
  const deadPort = await closedPort();
  const procRoot = join(dir, 'proc');
  writeFakeProc(procRoot, FIXTURE_PROCESSES);
  const sysfsRoot = join(dir, 'sysfs');
  cpSync(join(TESTDATA, 'sysfs'), sysfsRoot, { recursive: true });
  // The kernel log as /dev/kmsg gives it: the scanner (1-1) failed to enumerate once while booting.
  const kernelLog = join(dir, 'kmsg');
  writeFileSync(
    kernelLog,
    [
      '6,512,2301455,-;usb 1-1: new full-speed USB device number 3 using xhci_hcd',
      '3,513,2355012,-;usb 1-1: device descriptor read/64, error -71',
      '6,514,2455020,-;usb 1-1: new full-speed USB device number 4 using xhci_hcd',
      '',
    ].join('\n'),
  );
  const logFile = join(dir, 'pos.log');
  writeFileSync(logFile, 'ERROR old line before the exporter started\n');
  cpSync(join(TESTDATA, 'tls', 'server.crt'), join(dir, 'store-ca.crt'));
  // The POS's temporary folder, which its nightly cleanup empties: 3 files of 4 KiB (random, so a compressing
  // filesystem stores them whole).
  mkdirSync(join(dir, 'pos-temp', 'import'), { recursive: true });
  for (const f of ['a.tmp', 'b.tmp', 'import/prices.xml']) writeFileSync(join(dir, 'pos-temp', f), randomBytes(4096));

  const raw = {
    identity: { chain: 'demo', region: '77', store: '0001', till: '01' },
    collectors: { system: { interval: '1m' } },
    system: { temperatures: true },
    clock: { servers: [`127.0.0.1:${sntp.port}`] },
    probes: [
      { name: 'ofd', kind: 'tcp', target: `127.0.0.1:${httpPort}` },
      { name: 'hq_vpn', kind: 'tcp', target: `127.0.0.1:${deadPort}` },
      { name: 'dns', kind: 'dns', target: 'ofd.example.test', server: `127.0.0.1:${dns.port}` },
      { name: 'dns_missing', kind: 'dns', target: 'nowhere.example.test', server: `127.0.0.1:${dns.port}` },
      { name: 'store_server', kind: 'http', target: `http://127.0.0.1:${httpPort}/` },
      { name: 'egais', kind: 'http', target: `http://127.0.0.1:${httpPort}/down` },
      { name: 'hq_api', kind: 'http', target: `https://127.0.0.1:${httpsPort}/`, ca_file: 'store-ca.crt' },
    ],
    processes: [
      { name: 'utm', cmdline: 'transport\\.jar' },
      { name: 'pos', executable: 'pos' },
      { name: 'marking', executable: 'regime' },
    ],
    logs: [{ name: 'pos', path: 'pos.log', patterns: { error: '\\bERROR\\b', fiscal_error: 'ККТ: ошибка' } }],
    disposable: [{ name: 'pos_temp', path: 'pos-temp' }],
    peripherals: [
      { device: 'scanner', kind: 'scanner', usb: { vendor: '0c2e', product: '0b61' } },
      { device: 'printer', kind: 'printer', usb: { vendor: '0519' } },
      { device: 'pinpad', kind: 'pinpad', usb: { vendor: '11ca' } },
      { device: 'scales', kind: 'scales', serial: { port: '/dev/ttyUSB0' } },
    ],
  };
  const config = parseConfig(raw, join(dir, 'tillwatch.yml'), dir);
  const options: ExporterOptions = {
    logger: pino({ level: 'silent' }),
    now: () => FIXTURE_NOW,
    platform: 'linux',
    sysfsRoot,
    procRoot,
    kernelLog,
    systemInfo: fixtureSystemInfo,
    serialPorts: async () => [{ path: '/dev/ttyS0' }],
    collectors: registeredCollectors().filter((d) => OWN_COLLECTORS.includes(d.name)),
    version: '0.0.0-fixture',
    revision: '0000000',
    ...extra,
  };
  return {
    dir,
    config,
    options,
    logFile,
    procRoot,
    async close() {
      sntp.socket.close();
      dns.socket.close();
      await Promise.all([http, https].map(close));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Appends lines to the fixture log, as the POS program would. */
export function appendLog(fx: Fixture, lines: string[]): void {
  appendFileSync(fx.logFile, lines.map((l) => `${l}\n`).join(''));
}
