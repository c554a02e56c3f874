// The calendar component: serves `tillwatch_store_open{chain,region,store}` for every store with a calendar
// in the inventory (docs/metrics.md, "Store calendars"). Prometheus (or the central VictoriaMetrics'
// scraper) scrapes it like any target; it holds no state but the inventory, so several may run behind the
// same job and a restart loses nothing.
import { createServer, type Server } from 'node:http';
import { StoreOpenRenderer, storeCalendars, type Inventory } from '@tillwatch/inventory';

export interface CalendarServerOptions {
  /** The wall clock; tests fix it. */
  now?: () => Date;
}

export interface CalendarServer {
  server: Server;
  /** Stores the component serves (those with a calendar). */
  stores: number;
}

export function createCalendarServer(inv: Inventory, opts: CalendarServerOptions = {}): CalendarServer {
  const now = opts.now ?? (() => new Date());
  const renderer = new StoreOpenRenderer(storeCalendars(inv));
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : renderer.render(now()));
      return;
    }
    if (path === '/-/ready' || path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`tillwatch calendar: ${renderer.stores} stores with a calendar; metrics at /metrics\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  });
  return { server, stores: renderer.stores };
}

/** `host:port` → what `server.listen` takes; IPv6 in brackets. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port < 0 || port > 65535) throw new Error(`--listen: expected host:port, got "${value}"`);
  return { host: m[1] ?? m[2]!, port };
}
