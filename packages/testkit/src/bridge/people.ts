/** Users of every role for the people, page and browser tests (passwords hashed at config load). */
export const SESSION_KEY = 'session-key-for-tests-0123456789abcdef';
export const LINK_KEY = 'link-key-for-tests-0123456789abcdef';
export const OLGA_TOKEN = 'olga-token-0123456789';
export const C2_SERVICE = 'c2-service-token-0123456789';
export const ROOT_TOKEN = 'root-token-0123456789';
export const START = Date.parse('2026-03-03T07:00:00Z');

export const PEOPLE = {
  users: [
    { name: 'alice', password: 'alice-password', role: 'operator' },
    { name: 'victor', password: 'victor-password', role: 'viewer' },
    { name: 'olga', password: 'olga-password', role: 'operator', chains: ['c1'] },
    { name: 'root', password: 'root-password', role: 'admin', telegram_id: 4242 },
  ],
  session: { key: SESSION_KEY },
  links: { key: LINK_KEY, ttl: '1h' },
  proxy: { header: 'X-WEBAUTH-USER', from: ['127.0.0.1'], default_role: 'viewer' },
  failures: { limit: 1000, window: '1m' },
};
