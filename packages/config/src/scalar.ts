import { z } from 'zod';

/**
 * zod schema for a config value written as text or as a YAML number (a duration, a size): `problem`
 * says in words what is wrong with a value, and `read` converts one it has no objection to.
 */
export function scalarSchema<T>(
  expected: string,
  problem: (v: string | number) => string | undefined,
  read: (v: string | number) => T,
) {
  return z
    .union([z.string(), z.number()], {
      error: (iss) => (iss.input === undefined ? 'required' : `expected ${expected}`),
    })
    .transform((v, ctx) => {
      const why = problem(v);
      if (why === undefined) return read(v);
      ctx.addIssue({ code: 'custom', message: why, input: v });
      return z.NEVER;
    });
}
