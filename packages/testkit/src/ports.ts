// Loopback ports for tests. Every address a test uses is 127.0.0.1: nothing here binds or connects
// anywhere else.
import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { listen as listenOn } from '@tillwatch/simulator';
import getPort from 'get-port';

export const LOOPBACK = '127.0.0.1';

/**
 * Where free ports are looked for: below Linux's ephemeral range (32768-60999), from which the kernel takes the
 * local port of every outgoing connection. A port handed out from that range can be taken by any test's
 * connection before the program it was meant for binds it (CI saw Prometheus fail with "bind: address already
 * in use" on a port get-port had just found free); below it, only a listener can take it.
 */
const LOW = { from: 20_000, to: 32_767 };

/**
 * A port free on 127.0.0.1 right now, for programs that cannot listen on port 0 and report the port
 * they bound (Prometheus, Alertmanager, VictoriaMetrics): the first free one of 64 random candidates below the
 * ephemeral range (get-port falls back to any free port if none is). get-port also keeps the ports it handed
 * out recently from being handed out again, so parallel calls in one process never collide.
 */
export function freePort(opts: { exclude?: Iterable<number> } = {}): Promise<number> {
  const candidates = Array.from(
    { length: 64 },
    () => LOW.from + Math.floor(Math.random() * (LOW.to - LOW.from + 1)),
  );
  return getPort({ host: LOOPBACK, port: candidates, ...(opts.exclude ? { exclude: opts.exclude } : {}) });
}

/** `n` distinct free loopback ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePort());
  return ports;
}

/** A loopback port nothing listens on: what an unreachable device or service looks like from a test. */
export const closedPort = freePort;

/** Starts `server` listening on 127.0.0.1 (port 0: the OS picks) and resolves with the port. */
export function listen(server: NetServer | HttpServer, port = 0): Promise<number> {
  return listenOn(server, port, LOOPBACK);
}

/** Closes `server`; an HTTP server also drops its idle keep-alive connections so close() returns. */
export function close(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  });
}
