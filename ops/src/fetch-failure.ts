// Why a fetch() failed, in words a person can act on. Node's fetch rejects with a bare "fetch failed"; the reason
// is on its cause: a system error's code for a network failure (ECONNREFUSED, ENOTFOUND, ECONNRESET), or what is
// wrong with the address ("Invalid URL"). Every "cannot connect" message of the CLI says it the same way.

/** The reason of a rejected fetch: the cause's system error code, else the cause's message, else the error's. */
export function fetchFailure(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: unknown; message?: unknown } } | undefined;
  const code = e?.cause?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  if (typeof e?.cause?.message === 'string' && e.cause.message) return e.cause.message;
  return e?.message || String(err);
}
