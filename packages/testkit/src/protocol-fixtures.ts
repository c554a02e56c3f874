// The byte fixtures of docs/protocols/fixtures/, written by hand from the protocol pages beside them, for the
// exporter's codec tests and the simulator's emulator tests alike: one reader, one schema per protocol, so
// both sides are held to the same bytes. That every `doc:` citation names a real section is checked with the
// repository's other links (test/self-contained.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

const FIXTURES = fileURLToPath(new URL('../../../docs/protocols/fixtures/', import.meta.url));

/** Hex bytes as the fixtures write them: two digits each, spaces between, e.g. `02 01 FC FD`; empty = none. */
const hex = z.string().regex(/^(?:[0-9A-Fa-f]{2}(?: [0-9A-Fa-f]{2})*)?$/, {
  error: 'hex bytes like "02 01 FC FD"',
});
const doc = z
  .string()
  .regex(/^[a-z-]+\.md#[\p{L}\p{N}_-]+$/u, { error: 'a citation like "shtrih-m.md#frame"' });
const clock = { zone_minutes: z.number().int(), now: z.iso.datetime() };
const expected = z.record(z.string(), z.unknown());
const json = z.unknown();
const fault = z.strictObject({
  type: z.string(),
  command: z.string().optional(),
  code: z.number().int().optional(),
  times: z.number().int().optional(),
});

export const shtrihFixtureSchema = z.strictObject({
  ...clock,
  commands: z.array(
    z.strictObject({
      name: z.string(),
      doc,
      command: z.string().regex(/^(?:FF)?[0-9A-F]{2}$/),
      password: z.number().int().optional(),
      /** Bytes after the password (FF0A: the document number). */
      argument: hex.optional(),
      device_error: z.number().int().optional(),
      request: hex,
      reply: hex,
      expect: expected,
    }),
  ),
  dialogues: z.array(
    z.strictObject({
      name: z.string(),
      doc,
      fault: fault.optional(),
      steps: z.array(z.strictObject({ host: hex, device: hex })).min(1),
    }),
  ),
  damaged: z.array(
    z.strictObject({ name: z.string(), doc, frame: hex, reason: z.enum(['lrc', 'framing']), device: hex }),
  ),
});

const answer = z.strictObject({ status: z.number().int(), body: json });

export const atolFixtureSchema = z.strictObject({
  ...clock,
  submit: z.strictObject({
    doc,
    method: z.literal('POST'),
    path: z.string(),
    body: z.strictObject({ uuid: z.uuid(), request: z.array(z.strictObject({ type: z.string() })) }),
    answer,
  }),
  queued: z.strictObject({ doc, path: z.string(), body: json }),
  done: z.strictObject({
    nested: z.strictObject({ doc, body: json }),
    flat: z.strictObject({ doc, body: json }),
    bare: z.strictObject({ doc, body: json }),
  }),
  expect: expected,
  task_error: z.strictObject({
    doc,
    fault,
    request: z.array(z.strictObject({ type: z.string() })),
    body: json,
    expect: z.strictObject({ error: z.number().int() }),
  }),
  fn_resource: z.strictObject({
    doc,
    request: z.array(z.strictObject({ type: z.string() })),
    body: json,
    expect: expected,
  }),
});

export const utmFixtureSchema = z.strictObject({
  ...clock,
  info_list: z.strictObject({ doc, path: z.string(), body: json, expect: expected }),
  version: z.strictObject({ doc, path: z.string(), text: z.string() }),
  home_pages: z.array(
    z.strictObject({
      name: z.string(),
      doc,
      path: z.string(),
      unsent: z.number().int(),
      text: z.string(),
      expect: z.strictObject({ oldestUnsent: z.string().nullable() }),
    }),
  ),
});

export const markingFixtureSchema = z.strictObject({
  ...clock,
  status: z.strictObject({
    doc,
    path: z.string(),
    authorization: z.string(),
    body: json,
    expect: expected,
  }),
  unauthorized: z.strictObject({ doc, path: z.string(), authorization: z.string(), answer }),
});

const SCHEMAS = {
  'shtrih-m': shtrihFixtureSchema,
  atol: atolFixtureSchema,
  utm: utmFixtureSchema,
  marking: markingFixtureSchema,
};
export type ProtocolName = keyof typeof SCHEMAS;

/** Reads and validates docs/protocols/fixtures/<name>.yml; a malformed fixture fails with its file and key. */
export function loadFixture<N extends ProtocolName>(name: N): z.infer<(typeof SCHEMAS)[N]> {
  const file = join(FIXTURES, `${name}.yml`);
  const parsed = SCHEMAS[name].safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data as z.infer<(typeof SCHEMAS)[N]>;
}

export function bytes(text: string): Buffer {
  return Buffer.from(text.replace(/ /g, ''), 'hex');
}

export function hexOf(buf: Uint8Array): string {
  return Buffer.from(buf)
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1 ');
}

/** `YYYY-MM-DD HH:MM:SS`, a device's local time in a zone `zoneMinutes` east of UTC, as Unix seconds. */
export function localSeconds(text: string, zoneMinutes: number): number {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)$/.exec(text);
  if (!m) throw new Error(`not a local date-time: ${text}`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - zoneMinutes * 60;
}

/** The fixture's expected values with every local date-time string turned into Unix seconds. */
export function withSeconds(value: unknown, zoneMinutes: number): unknown {
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(value))
    return localSeconds(value, zoneMinutes);
  if (Array.isArray(value)) return value.map((v) => withSeconds(v, zoneMinutes));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withSeconds(v, zoneMinutes)]));
  return value;
}
