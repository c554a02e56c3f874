// Byte sizes with one strict grammar: a whole number of bytes (1048576), or a whole number with an
// IEC unit, B, KiB, MiB, GiB or TiB ("512KiB", "1MiB"), spelt exactly so. "KB", "MB", "1M" or "512k"
// are refused, not guessed: Prometheus and the `bytes` package read "MB" as 1024², SI as 1000², and
// `bytes` reads "1M" as 1 byte (issue 23: a bridge whose max_body said 1M answered every alert 413).
// Hand-written for that reason: the npm parsers accept the ambiguous forms.
import { scalarSchema } from './scalar.js';

const UNIT_BYTES = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as const;
type Unit = keyof typeof UNIT_BYTES;
const SIZE_RE = /^(\d+)(B|KiB|MiB|GiB|TiB)?$/;
// Decimal-or-binary prefixes people write, by power: k=1, M=2, G=3, T=4.
const AMBIGUOUS_RE = /^(\d+)\s*([kKmMgGtT])[bB]?$/;
const POWER: Record<string, number> = { k: 1, m: 2, g: 3, t: 4 };

export const BYTE_SIZE_SYNTAX =
  'a whole number of bytes (e.g. 1048576) or a whole number with B, KiB, MiB, GiB or TiB (e.g. "512KiB", "1MiB")';

/** Bytes of a size; undefined when the input is not in the grammar or not a safe integer. */
export function parseByteSize(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  const m = SIZE_RE.exec(input);
  if (!m) return undefined;
  const bytes = Number(m[1]) * UNIT_BYTES[(m[2] ?? 'B') as Unit];
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Why `input` is not a byte size, in words for a config error; undefined when it is one. */
export function byteSizeProblem(input: unknown): string | undefined {
  if (typeof input !== 'string' && typeof input !== 'number') return `expected ${BYTE_SIZE_SYNTAX}`;
  if (parseByteSize(input) !== undefined) return undefined;
  const shown = typeof input === 'number' ? String(input) : JSON.stringify(input);
  const amb = typeof input === 'string' ? AMBIGUOUS_RE.exec(input) : null;
  if (amb) {
    const [, n, prefix] = amb as unknown as [string, string, string];
    const power = POWER[prefix.toLowerCase()]!;
    const si = Number(n) * 1000 ** power;
    const binary = `${n}${prefix.toUpperCase()}iB`;
    return `size ${shown} is ambiguous (${si} or ${Number(n) * 1024 ** power} bytes?): write "${binary}" or ${si}`;
  }
  return `invalid size ${shown}: expected ${BYTE_SIZE_SYNTAX}`;
}

/** zod schema for a configured size; the parsed value is bytes. */
export const byteSize = scalarSchema(BYTE_SIZE_SYNTAX, byteSizeProblem, (v) => parseByteSize(v)!);
