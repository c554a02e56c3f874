// What the simulator's two control APIs (devices and fleet) share: listening, stopping, and the JSON
// error answer.
import http from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { ErrorRequestHandler } from 'express';

export interface Served {
  port: number;
  url: string;
  /** Stops listening and ends open keep-alive connections, so stopping never waits on a client. */
  close(): Promise<void>;
}

/** Starts `server` listening on host:port (port 0: the OS picks) and resolves with the bound port. */
export function listen(server: NetServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes `server` once its connections are gone (the caller ends them first). */
export function closeServer(server: NetServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Serves `handler` on host:port (port 0: the OS picks); a port in use rejects with EADDRINUSE. */
export async function serve(handler: http.RequestListener, port: number, host: string): Promise<Served> {
  const server = http.createServer(handler);
  const bound = await listen(server, port, host);
  return {
    port: bound,
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An error a route answers itself: its status and a stable code (documented in the README). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The last middleware of a control API: an ApiError answers as itself, `known` maps other errors the API
 * understands, a body that is not JSON is 400 invalid_json, anything else 500 internal. Every answer is
 * {"error": {"code", "message"}}.
 */
export function jsonErrors(
  known: (err: unknown) => ApiError | undefined = () => undefined,
): ErrorRequestHandler {
  // Express needs the four-argument signature to recognise an error handler.
  return (err, _req, res, _next) => {
    const e: ApiError =
      (err instanceof ApiError ? err : known(err)) ??
      ((err as { type?: string }).type === 'entity.parse.failed'
        ? new ApiError(400, 'invalid_json', 'the body is not valid JSON')
        : new ApiError(500, 'internal', (err as Error).message));
    res.status(e.status).json({ error: { code: e.code, message: e.message } });
  };
}
