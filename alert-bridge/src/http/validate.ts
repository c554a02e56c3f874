import type { z } from 'zod';
import { HttpError } from '../errors.js';

/** Parses a query or body with a schema; the first issue becomes a 400 naming the field. */
export function parseOr400<T>(
  schema: z.ZodType<T>,
  value: unknown,
  code: 'invalid_request' = 'invalid_request',
): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const is = r.error.issues[0]!;
  const where = is.path.join('.') || '(request)';
  const msg = is.code === 'unrecognized_keys' ? `unknown parameter(s) ${is.keys.join(', ')}` : is.message;
  throw new HttpError(code, `${where}: ${msg}`);
}
