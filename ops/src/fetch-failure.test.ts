import { describe, expect, it } from 'vitest';
import { closedPort } from '@tillwatch/testkit';
import { fetchFailure } from './fetch-failure.js';

// What a person reads after "cannot connect:" in every command that fetches (report, backtest, forecast).
async function failureOf(url: string): Promise<string> {
  try {
    await fetch(url);
  } catch (err) {
    return fetchFailure(err);
  }
  throw new Error(`${url} answered`);
}

describe('fetchFailure', () => {
  it('names the system error of a port nobody listens on, not "fetch failed"', async () => {
    expect(await failureOf(`http://127.0.0.1:${await closedPort()}/`)).toBe('ECONNREFUSED');
  });

  it('says what is wrong with an address that is not a URL', async () => {
    expect(await failureOf('bridge-host/api')).toBe('Invalid URL');
  });

  it("falls back to the error's own message when there is no cause", () => {
    expect(fetchFailure(new Error('the operation was aborted'))).toBe('the operation was aborted');
    expect(fetchFailure('plain')).toBe('plain');
  });
});
