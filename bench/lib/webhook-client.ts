// What the bridge benches send with: Alertmanager's side of the webhook, over kept-alive connections as
// Alertmanager keeps them, answering with the HTTP status (0 when the request itself failed), and the
// alerts in its shape.
import { Agent, request } from 'node:http';

export function webhookClient(url: string, token: string, maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${token}`,
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { post, close: () => agent.destroy() };
}

/** One firing alert as Alertmanager sends it (the benches vary only labels, annotations and fingerprint). */
export function firing(
  labels: Record<string, string>,
  annotations: Record<string, string>,
  fingerprint?: string,
) {
  return {
    status: 'firing',
    labels,
    annotations,
    startsAt: '2026-01-01T10:00:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus/graph',
    ...(fingerprint === undefined ? {} : { fingerprint }),
  };
}
