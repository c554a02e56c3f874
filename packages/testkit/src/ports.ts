// Loopback ports for tests. Every address a test uses is 127.0.0.1: nothing here binds or connects
// anywhere else.
import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { listen as listenOn } from '@tillwatch/simulator';
import getPort from 'get-port';

export const LOOPBACK = '127.0.0.1';

/**
 * A port free on 127.0.0.1 right now, for programs that cannot listen on port 0 and report the port
 * they bound (Prometheus, Alertmanager, VictoriaMetrics). get-port also keeps the ports it handed out
 * recently from being handed out again, so parallel calls in one process never collide.
 */
export function freePort(opts: { exclude?: Iterable<number> } = {}): Promise<number> {
  return getPort({ host: LOOPBACK, ...(opts.exclude ? { exclude: opts.exclude } : {}) });
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
