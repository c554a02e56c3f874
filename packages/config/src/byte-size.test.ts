import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { byteSize, parseByteSize } from './byte-size.js';
import { parseWith } from './issues.js';
import { parseYaml } from './yaml.js';

describe('byte sizes', () => {
  it.each([
    ['1048576', 1_048_576],
    ['0', 0],
    ['512B', 512],
    ['512KiB', 524_288],
    ['1MiB', 1_048_576],
    ['2GiB', 2 * 1024 ** 3],
    ['1TiB', 1024 ** 4],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(['1M', '1mb', '1MB', '1KB', '512k', '1e6', '1.5MiB', '1 MiB', '1mib', '-1', '', 'MiB', '1Mi'])(
    'refuses %j',
    (text) => {
      expect(parseByteSize(text)).toBeUndefined();
    },
  );

  it('takes YAML numbers as bytes, 1e6 included, and nothing fractional or negative', () => {
    // YAML 1.2 reads an unquoted 1e6 as the number 1000000: that is what it says.
    const value = parseYaml('max_body: 1e6\n', 'x.yml') as { max_body: number };
    expect(parseByteSize(value.max_body)).toBe(1_000_000);
    expect(parseByteSize(1.5)).toBeUndefined();
    expect(parseByteSize(-1)).toBeUndefined();
    expect(parseByteSize(2 ** 60)).toBeUndefined();
  });

  const schema = z.strictObject({ max_body: byteSize });
  const problem = (max_body: unknown) => {
    try {
      parseWith(schema, { max_body }, 'bridge.yml');
    } catch (err) {
      return (err as Error).message;
    }
    return undefined;
  };

  it('names the key and, for M/k/MB, both readings', () => {
    expect(problem('1M')).toBe(
      'bridge.yml: max_body: size "1M" is ambiguous (1000000 or 1048576 bytes?): write "1MiB" or 1000000',
    );
    expect(problem('512k')).toBe(
      'bridge.yml: max_body: size "512k" is ambiguous (512000 or 524288 bytes?): write "512KiB" or 512000',
    );
    expect(problem('1mb')).toBe(
      'bridge.yml: max_body: size "1mb" is ambiguous (1000000 or 1048576 bytes?): write "1MiB" or 1000000',
    );
    expect(problem('1e6')).toBe(
      'bridge.yml: max_body: invalid size "1e6": expected a whole number of bytes (e.g. 1048576) or a whole number with B, KiB, MiB, GiB or TiB (e.g. "512KiB", "1MiB")',
    );
    expect(problem(1.5)).toMatch(/^bridge\.yml: max_body: invalid size 1\.5: expected a whole number/);
    expect(problem(undefined)).toBe('bridge.yml: max_body: required');
    expect(problem('1MiB')).toBeUndefined();
  });
});
