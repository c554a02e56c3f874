import { createHmac } from 'node:crypto';
import type { AuthConfig } from './config.js';
import { safeEqual } from './equal.js';

/**
 * Read-only links to a ticket for people who receive a message: no login and no token in the
 * message, only an HMAC over (ticket id, expiry) that the bridge checks. Anyone holding the link can
 * read that one ticket until it expires, and nothing else.
 */
export interface LinkSigner {
  /** `${public_url}/ui/link/{id}?exp={unix seconds}&sig={hex}`, valid for links.ttl from `now`. */
  signedTicketLink(id: number, now: number): string;
  /** `ok`, `expired` (a genuine link past its time) or `forged` (bad or missing signature). */
  check(id: number, exp: string | undefined, sig: string | undefined, now: number): LinkVerdict;
}

export type LinkVerdict = 'ok' | 'expired' | 'forged';

export const LINK_PATH = '/ui/link';

export function createLinkSigner(links: NonNullable<AuthConfig['links']>, publicUrl: string): LinkSigner {
  const base = publicUrl.replace(/\/$/, '');
  const key = links.key.reveal();
  // "ticket:" tags the message so a signature made for another purpose with this key never fits.
  const mac = (id: number, exp: number) =>
    createHmac('sha256', key).update(`ticket:${id}:${exp}`).digest('hex');
  return {
    signedTicketLink(id, now) {
      const exp = Math.floor((now + links.ttl) / 1000);
      return `${base}${LINK_PATH}/${id}?exp=${exp}&sig=${mac(id, exp)}`;
    },
    check(id, exp, sig, now) {
      if (!exp || !sig || !/^\d{1,12}$/.test(exp) || !/^[0-9a-f]{64}$/.test(sig)) return 'forged';
      // The signature is checked before the expiry so an expired page never confirms a forged link.
      if (!safeEqual(mac(id, Number(exp)), sig)) return 'forged';
      return Number(exp) * 1000 <= now ? 'expired' : 'ok';
    },
  };
}
