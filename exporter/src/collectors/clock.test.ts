import { describe, expect, it } from 'vitest';
import { closedPort } from '@tillwatch/testkit';
import { startSntpResponder } from '../testdata/fixture-env.js';
import { sntpOffset } from './clock.js';

describe('SNTP', () => {
  it('computes server minus local time from a loopback responder', async () => {
    const now = () => 1_790_000_000_250;
    const srv = await startSntpResponder(() => now() - 42_000);
    try {
      expect(await sntpOffset('127.0.0.1', srv.port, AbortSignal.timeout(2000), now)).toBeCloseTo(-42_000, 0);
    } finally {
      srv.socket.close();
    }
  });

  it('gives up when aborted by the timeout (no NTP server answers)', async () => {
    const port = await closedPort();
    await expect(sntpOffset('127.0.0.1', port, AbortSignal.timeout(200), Date.now)).rejects.toThrow();
  });
});
