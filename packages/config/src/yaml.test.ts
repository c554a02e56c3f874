import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from './error.js';
import { parseWith } from './issues.js';
import { loadYamlFile, parseYaml, toYaml } from './yaml.js';

function caught(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('YAML loading', () => {
  it('reads YAML 1.2: no sexagesimal numbers, "no" stays a string', () => {
    expect(parseYaml('a: 1:30\nb: no\nc: 0x10\n', 'x.yml')).toEqual({ a: '1:30', b: 'no', c: 16 });
    expect(parseYaml('', 'x.yml')).toBeNull();
  });

  it.each([
    [
      'a syntax error',
      'identity: {chain: demo\n  region: 77\n',
      1,
      19,
      'invalid YAML: Implicit keys need to be on a single line',
    ],
    [
      'an unclosed flow sequence',
      'chains:\n  - id: c1\n    regions: [\n',
      4,
      1,
      'invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    ['a duplicate key', 'chains:\n  - id: c1\n    id: c2\n', 3, 5, 'invalid YAML: Map keys must be unique'],
    [
      'two documents',
      'a: 1\n---\nb: 2\n',
      2,
      1,
      'invalid YAML: the file holds more than one YAML document (---)',
    ],
  ])('puts %s at file:line:column', (_name, text, line, column, message) => {
    const err = caught(() => parseYaml(text, 'conf/x.yml'));
    expect(err.message).toBe(`conf/x.yml:${line}:${column}: ${message}`);
    expect(err).toMatchObject({ file: 'conf/x.yml', line, column, key: undefined });
  });

  it('refuses an alias to nothing, naming the file', () => {
    expect(caught(() => parseYaml('a: *nowhere\n', 'x.yml')).message).toMatch(/^x\.yml: invalid YAML: /);
  });

  it('names a file it cannot read, without repeating the path', () => {
    expect(caught(() => loadYamlFile('/nonexistent/x.yml')).message).toBe(
      '/nonexistent/x.yml: cannot read the file: ENOENT: no such file or directory',
    );
  });

  it('loads a file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tw-config-')), 'a.yml');
    writeFileSync(file, 'interval: 1h30m\n');
    expect(loadYamlFile(file)).toEqual({ interval: '1h30m' });
  });

  it('writes generated YAML that reads back the same, without folding or anchors', () => {
    const shared = { kind: 'fiscal' };
    const value = { long: 'x'.repeat(200), a: [shared, shared], quoted: '0c2e:0b61', n: '077' };
    const text = toYaml(value);
    expect(text).not.toContain('&');
    expect(text.split('\n').some((l) => l.length > 200)).toBe(true);
    expect(parseYaml(text, 'x.yml')).toEqual(value);
  });
});

describe('zod issues as config problems', () => {
  const schema = z.strictObject({
    identity: z.strictObject({ till: z.string(), store: z.string() }),
    probes: z.array(z.strictObject({ target: z.string().regex(/:/, 'expected host:port') })).default([]),
  });
  const problems = (data: unknown) => caught(() => parseWith(schema, data, 'till.yml')).message.split('\n');

  it('lists every problem, one per line, with the key path as in the YAML', () => {
    expect(problems({ identity: { till: 't1', shop: 's' }, probes: [{ target: 'x' }], extra: 1 })).toEqual([
      'till.yml: identity.store: required',
      'till.yml: identity.shop: unknown key',
      'till.yml: probes[0].target: expected host:port',
      'till.yml: extra: unknown key',
    ]);
  });

  it('carries the first key on the error', () => {
    expect(caught(() => parseWith(schema, { identity: { till: 1, store: 's' } }, 'till.yml'))).toMatchObject({
      file: 'till.yml',
      key: 'identity.till',
      line: undefined,
    });
  });

  it('keeps the schema message for an empty file', () => {
    expect(problems(null)).toEqual(['till.yml: (top level): Invalid input: expected object, received null']);
  });
});
