/**
 * Whether a storage error is one a retry can fix (the database is unreachable, overloaded, shutting
 * down, closed, timed out, or lost a race) as opposed to one the same input will hit again. Only the
 * first may become a 503 that Alertmanager retries; the second would block its group forever.
 */
export function isTransient(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  const msg = typeof err?.message === 'string' ? err.message : '';
  // PostgreSQL SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57 operator
  // intervention (shutdown, statement timeout), 40 transaction rollback (serialization, deadlock),
  // 58 system error (I/O); 55P03 lock not available.
  if (/^(08|53|57|40|58)[0-9A-Z]{3}$/.test(code) || code === '55P03') return true;
  // Node socket errors while talking to PostgreSQL.
  if (/^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|AI_AGAIN)$/.test(code)) return true;
  // SQLite: another writer holds the lock, the disk failed or is full, the file cannot be opened.
  if (/^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL)/.test(code)) return true;
  return TRANSIENT_MESSAGES.some((re) => re.test(msg));
}

const TRANSIENT_MESSAGES = [
  // node-postgres' own timeouts and lost connections.
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Query read timeout/i,
  /connection timeout/i,
  // The store is closed (shutting down, or after a fatal fault): a restart or another replica can take it.
  /(has|have) already been destroyed/i,
  /Cannot use a pool after calling end/i,
  /database connection is not open/i,
];
