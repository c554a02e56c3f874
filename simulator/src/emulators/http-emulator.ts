// Shared HTTP plumbing of the ATOL web server, UTM and marking module emulators: listening on
// 127.0.0.1, closing every socket on stop, and the HTTP faults.
import { closeServer, listen } from '../serve.js';
import http from 'node:http';
import type net from 'node:net';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { isoDateTime, localDateTime } from './clock.js';
import { Emulator } from './emulator.js';
import { FaultSet, prng, type FaultType } from './faults.js';

export const HTTP_FAULTS: FaultType[] = [
  'no_answer',
  'garbage',
  'slow',
  'drop',
  'http_500',
  'malformed_json',
  'truncated',
];

export interface HttpEmulatorOptions {
  id?: string;
  host?: string;
  port?: number;
  now?: () => number;
  /** Zone of the device's date-times, minutes east of UTC; undefined = the host's zone. */
  utcOffsetMinutes?: number;
  seed?: number;
}

export abstract class HttpEmulator<S extends object> extends Emulator<S> {
  private server: http.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private boundPort = 0;
  protected readonly now: () => number;
  private readonly random: () => number;
  /** Requests served, by path. */
  readonly requestCounts = new Map<string, number>();

  constructor(
    protected readonly opts: HttpEmulatorOptions,
    id: string,
    initial: S,
    supported: FaultType[] = HTTP_FAULTS,
  ) {
    super(opts.id ?? id, initial);
    this.now = opts.now ?? Date.now;
    this.random = prng(opts.seed ?? 1);
    this.faults = new FaultSet(supported);
  }

  protected readonly faults: FaultSet;

  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return `http://${this.opts.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  /** Adds the device's routes. */
  protected abstract routes(app: Express): void;

  /** Which fault key a request matches: the path by default (ATOL matches task types too). */
  protected faultKey(req: Request): string {
    return req.path;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const app = express();
    app.disable('x-powered-by');
    app.use((req, _res, next) => {
      this.requestCounts.set(req.path, (this.requestCounts.get(req.path) ?? 0) + 1);
      next();
    });
    app.use((req, res, next) => this.applyFault(req, res, next));
    this.routes(app);
    const server = http.createServer(app);
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.boundPort = await listen(server, this.opts.port ?? 0, this.opts.host ?? '127.0.0.1');
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await closeServer(server);
  }

  private applyFault(req: Request, res: Response, next: NextFunction): void {
    const f = this.faults.take(this.faultKey(req), true);
    if (!f || f.type === 'error_byte') return next();
    this.faults.take(this.faultKey(req));
    switch (f.type) {
      case 'no_answer':
        // Hold the request open until the client gives up or the emulator stops.
        return;
      case 'drop':
        req.socket.destroy();
        return;
      case 'http_500':
        res.status(500).type('text/plain').send('Internal Server Error');
        return;
      case 'malformed_json':
        res
          .status(200)
          .type('application/json')
          .send('{"results": [{"status": "ready", "result": {"deviceSta');
        return;
      case 'garbage': {
        const n = 16 + Math.floor(this.random() * 200);
        res
          .status(200)
          .type('application/json')
          .send(Buffer.from(Array.from({ length: n }, () => Math.floor(this.random() * 256))));
        return;
      }
      case 'truncated':
        // Promise more than is sent, then cut the connection.
        res.status(200).setHeader('content-length', '4096');
        res.type('application/json');
        res.write('{"results": [');
        setTimeout(() => req.socket.destroy(), 10);
        return;
      case 'slow': {
        const t = setTimeout(next, f.delayMs ?? 10_000);
        req.socket.once('close', () => clearTimeout(t));
        return;
      }
      default:
        next();
    }
  }

  /** ISO 8601 with the device's zone, like the ATOL web server prints. */
  protected iso(seconds: number): string {
    return isoDateTime(seconds, this.opts.utcOffsetMinutes);
  }

  /** `YYYY-MM-DD HH:MM:SS` in the device's zone, without the zone (UTM style). */
  protected local(seconds: number): string {
    return localDateTime(seconds, this.opts.utcOffsetMinutes);
  }
}
