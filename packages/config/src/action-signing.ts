// The signing schemes of TillWatch's signed inbound channels, one module for both ends of each: the till's
// action channel (the till's agent in exporter/src/actions, the bridge in alert-bridge/src/actions) and the
// service desks' event webhook (alert-bridge/src/http/desk.ts; desks and tests sign with it). Hand-written on
// node:crypto because each scheme is a few lines of HMAC and no library of it is kept for both sides.
//
// Till actions:
// Request: HMAC-SHA256(secret, METHOD \n PATH \n TILL \n TIMESTAMP_MS \n NONCE \n sha256hex(BODY)), hex,
// in X-TillWatch-Signature; the till, timestamp and nonce ride in their own headers. The bridge refuses a
// timestamp outside its skew window and a nonce it has already seen for the till (a replay).
// Response: HMAC-SHA256(secret, "response" \n NONCE \n sha256hex(BODY)): bound to the request's nonce,
// so a recorded answer (or a forged one) never passes for the answer to a new poll.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const HEADER_TILL = 'x-tillwatch-till';
export const HEADER_TIMESTAMP = 'x-tillwatch-timestamp';
export const HEADER_NONCE = 'x-tillwatch-nonce';
export const HEADER_SIGNATURE = 'x-tillwatch-signature';

const sha256 = (body: string) => createHash('sha256').update(body, 'utf8').digest('hex');

export function signRequest(
  secret: string,
  r: { method: string; path: string; till: string; timestamp: string; nonce: string; body: string },
): string {
  const text = [r.method.toUpperCase(), r.path, r.till, r.timestamp, r.nonce, sha256(r.body)].join('\n');
  return createHmac('sha256', secret).update(text, 'utf8').digest('hex');
}

export function signResponse(secret: string, nonce: string, body: string): string {
  return createHmac('sha256', secret)
    .update(['response', nonce, sha256(body)].join('\n'), 'utf8')
    .digest('hex');
}

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** Constant-time comparison of two hex signatures (false for any malformed input). */
export function sameSignature(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string' || !/^[0-9a-f]{64}$/.test(a)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/** The headers of one signed request. */
export function signedHeaders(
  secret: string,
  till: string,
  method: string,
  path: string,
  body: string,
  now = Date.now(),
  nonce = newNonce(),
): Record<string, string> {
  const timestamp = String(now);
  return {
    [HEADER_TILL]: till,
    [HEADER_TIMESTAMP]: timestamp,
    [HEADER_NONCE]: nonce,
    [HEADER_SIGNATURE]: signRequest(secret, { method, path, till, timestamp, nonce, body }),
  };
}

// Desk events: HMAC-SHA256(secret, TIMESTAMP_MS "." BODY), hex, in X-TillWatch-Signature, with the timestamp
// (Unix milliseconds, the till channel's header) in X-TillWatch-Timestamp. Simpler than the till request on
// purpose: any desk's automation (a Jira rule, an RT scrip, a shell script with openssl) can compute it. The
// secret is the desk's own; the event's `id` in the body is its idempotency key, the timestamp its freshness.

export function signDeskEvent(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** The headers of one signed desk event (the body is sent exactly as signed). */
export function deskEventHeaders(secret: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = String(now);
  return { [HEADER_TIMESTAMP]: timestamp, [HEADER_SIGNATURE]: signDeskEvent(secret, timestamp, body) };
}
