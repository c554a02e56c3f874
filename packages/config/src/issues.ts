// zod issues → config problems, the same way in every package: the key path as the reader finds it
// in the YAML, "unknown key" on the unknown key itself (zod reports it on the parent), and "required"
// for a missing key rather than "expected string, received undefined".
import type { z } from 'zod';
import { ConfigError, formatKeyPath, type ConfigProblem } from './error.js';

/** Parse options under which `problemsOf` can tell a missing key from a wrong value. */
export const PARSE_OPTIONS = { reportInput: true } as const;

/** One problem per issue (per unknown key). `prefix` is where the parsed value sits in the file. */
export function problemsOf(
  issues: ReadonlyArray<z.core.$ZodIssue>,
  prefix: ReadonlyArray<PropertyKey> = [],
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out.push({ key: formatKeyPath([...path, k]), message: 'unknown key' });
    } else if (issue.code === 'invalid_key') {
      // A record key that breaks its rule: the key schema's own message says which rule.
      for (const inner of issue.issues) out.push({ key: formatKeyPath(path), message: inner.message });
    } else if (issue.code === 'invalid_type' && issue.input === undefined && path.length > 0) {
      // At the top level "undefined" is an empty file, where the schema's own message says more.
      out.push({ key: formatKeyPath(path), message: 'required' });
    } else {
      out.push({ key: formatKeyPath(path), message: issue.message });
    }
  }
  return out;
}

/**
 * Validates `data` (the parsed file) against `schema`; throws a ConfigError listing every problem,
 * each as `FILE: key.path: reason`.
 */
export function parseWith<S extends z.ZodType>(schema: S, data: unknown, file: string): z.output<S> {
  const r = schema.safeParse(data, PARSE_OPTIONS);
  if (!r.success) throw new ConfigError(file, problemsOf(r.error.issues));
  return r.data;
}
