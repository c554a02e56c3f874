// Loopback HTTP servers that stand in for scrape targets.
import { createServer } from 'node:http';
import { LOOPBACK, close, listen } from './ports.js';

export interface MetricsServer {
  /** host:port, for a scrape config. */
  address: string;
  /** http://host:port/metrics */
  url: string;
  close(): Promise<void>;
}

/** Serves `body()` as the exposition on /metrics at 127.0.0.1 (port from the OS); 404 elsewhere. */
export async function startMetricsServer(body: () => string): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body());
  });
  const port = await listen(server);
  return {
    address: `${LOOPBACK}:${port}`,
    url: `http://${LOOPBACK}:${port}/metrics`,
    close: () => close(server),
  };
}
