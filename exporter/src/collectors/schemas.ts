// Config pieces several collectors share, so their error messages stay the same everywhere.
import { z } from 'zod';

/** A list whose items are unique by `key`; a repeat is named at its own key path. */
export function uniqueList<S extends z.ZodType>(item: S, key: string, duplicate: (value: string) => string) {
  return z
    .array(item)
    .default([])
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((x, i) => {
        const v = String((x as Record<string, unknown>)[key]);
        if (seen.has(v)) ctx.addIssue({ code: 'custom', path: [i, key], message: duplicate(v) });
        seen.add(v);
      });
    });
}

/** A string that must compile as a JavaScript regular expression. */
export const regexString = z.string().refine(
  (r) => {
    try {
      new RegExp(r);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'not a valid regular expression' },
);
