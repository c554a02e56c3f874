import { createHmac } from 'node:crypto';
import { safeEqual } from '../auth/equal.js';
import type { Secret } from '../secret.js';

/** What a button does: take the ticket into work, resolve it, or resolve it although alerts still fire. */
export type ButtonAction = 'acknowledge' | 'resolve' | 'force';

const CODE: Record<ButtonAction, string> = { acknowledge: 'a', resolve: 'r', force: 'f' };
const ACTION: Record<string, ButtonAction> = { a: 'acknowledge', r: 'resolve', f: 'force' };

// Telegram carries at most 64 bytes of callback data: "a:<ticket>:<43 characters of HMAC-SHA256>" fits
// for any ticket id up to 18 digits.
const DATA = /^([arf]):([1-9][0-9]{0,17}):([A-Za-z0-9_-]{43})$/;
export const CALLBACK_DATA_MAX = 64;

/**
 * Callback data the bridge can trust: the action and the ticket, with an HMAC of both under
 * `telegram.callback_key`. Telegram hands the data back as the bot set it, but a client can send any
 * data with a press; a forged one is refused before anything is looked up. Who may press is decided
 * from the presser's Telegram id, never from the data.
 */
export function callbackSigner(key: Secret) {
  const mac = (code: string, ticket: string) =>
    createHmac('sha256', key.reveal()).update(`tillwatch-button:${code}:${ticket}`).digest('base64url');
  return {
    sign(action: ButtonAction, ticketId: number): string {
      const code = CODE[action];
      return `${code}:${ticketId}:${mac(code, String(ticketId))}`;
    },
    /** The action and ticket of genuine data; undefined for anything else. */
    verify(data: unknown): { action: ButtonAction; ticketId: number } | undefined {
      if (typeof data !== 'string' || data.length > CALLBACK_DATA_MAX) return undefined;
      const m = DATA.exec(data);
      if (!m || !safeEqual(m[3]!, mac(m[1]!, m[2]!))) return undefined;
      const ticketId = Number(m[2]);
      return Number.isSafeInteger(ticketId) ? { action: ACTION[m[1]!]!, ticketId } : undefined;
    },
  };
}

export type CallbackSigner = ReturnType<typeof callbackSigner>;
