// What the bridge benches send with: Alertmanager's side of the webhook, over kept-alive connections as
// Alertmanager keeps them, answering with the HTTP status (0 when the request itself failed).
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
