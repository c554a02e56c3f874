// Devices that answer garbage (issue 23): whatever a registrar, the UTM or the marking module sends
// back, the device is reported down and the exporter goes on serving. Every "device" here is a real
// loopback server sending what a broken or hostile one would: endless bodies, non-JSON, random bytes.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredCollectors } from './collector.js';
import { parseConfig } from './config.js';
import { createExporter, type Exporter } from './exporter.js';
import './collectors/index.js';

const servers: Array<Server | TcpServer> = [];
async function listen(s: Server | TcpServer): Promise<number> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as AddressInfo).port;
}

/** An HTTP "device" that answers 200 and then streams random bytes until the client goes away. */
function endlessBody(): Server {
  return createHttpServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const chunk = randomBytes(64 * 1024);
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    req.socket.on('close', () => res.destroy());
    pump();
  });
}

/** An HTTP "device" that answers 200 with a short body that is not JSON. */
function notJson(): Server {
  return createHttpServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('<html>{"status": oops');
  });
}

/** A TCP "registrar" that sends random bytes from the moment a client connects. */
function noiseSocket(): TcpServer {
  return createTcpServer((socket) => {
    socket.on('error', () => {});
    const t = setInterval(() => socket.write(randomBytes(512)), 5);
    socket.on('close', () => clearInterval(t));
  });
}

describe('devices that answer garbage', () => {
  let ex: Exporter;
  beforeAll(async () => {
    const atolEndless = await listen(endlessBody());
    const utmEndless = await listen(endlessBody());
    const markingNotJson = await listen(notJson());
    const shtrihNoise = await listen(noiseSocket());
    const config = parseConfig({
      identity: { chain: 'c', region: 'r', store: 's', till: 't' },
      collectors: {
        fiscal: { interval: '10s', timeout: '10s' },
        utm: { interval: '10s', timeout: '10s' },
        marking: { interval: '10s', timeout: '10s' },
      },
      fiscal: [
        {
          device: 'fiscal',
          driver: 'shtrih',
          address: `tcp://127.0.0.1:${shtrihNoise}`,
          retries: 0,
          shift_state_file: '',
        },
        { device: 'fiscal2', driver: 'atol', address: `http://127.0.0.1:${atolEndless}` },
      ],
      utm: { url: `http://127.0.0.1:${utmEndless}` },
      marking: { url: `http://127.0.0.1:${markingNotJson}` },
    });
    ex = createExporter(config, {
      logger: pino({ level: 'silent' }),
      collectors: registeredCollectors().filter((d) => ['fiscal', 'utm', 'marking'].includes(d.name)),
    });
    await ex.start();
  });
  afterAll(async () => {
    await ex?.stop();
    for (const s of servers) {
      (s as Server).closeAllConnections?.();
      s.close();
    }
  });

  it('reports each device down, keeps its collector successful, and keeps serving', async () => {
    const text = await ex.metrics();
    for (const [device, kind] of [
      ['fiscal', 'fiscal'],
      ['fiscal2', 'fiscal'],
      ['utm', 'utm'],
      ['marking', 'marking'],
    ])
      expect(text, device).toContain(`till_device_up{device="${device}",kind="${kind}"} 0`);
    // Not timeouts: each reply was refused for what it was (the runs ended well within their 10 s).
    for (const c of ['fiscal', 'utm', 'marking'])
      expect(text, c).toContain(`till_collector_success{collector="${c}"} 1`);
    expect(text).toMatch(/till_fiscal_errors_total\{device="fiscal2",reason="parse"\} [1-9]/);
  });
});
