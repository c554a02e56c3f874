// Config of the fiscal, utm and marking collectors: defaults, addresses, and exact error messages
// through the exporter's config loader (file + key + reason).
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config.js';
import './index.js';
import { fiscalSchema, parseAddress } from './fiscal.js';

const identity = 'identity: { chain: c, region: r, store: s, till: t }\n';

function problems(yaml: string): string {
  try {
    parseConfigText(identity + yaml, 'till.yml', '/tmp');
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

describe('fiscal config', () => {
  it('fills defaults for a minimal Shtrih entry', () => {
    const [d] = fiscalSchema.parse([{ driver: 'shtrih', address: 'tcp://10.0.0.5' }]);
    expect(d).toMatchObject({
      device: 'fiscal',
      admin_password: 30,
      byte_timeout: 500,
      reply_timeout: 5000,
      retries: 2,
      paper_flag_bit: 7,
      busy_backoff: 30_000,
    });
    expect(fiscalSchema.parse(undefined)).toEqual([]);
  });

  it('parses the three kinds of address', () => {
    expect(parseAddress('shtrih', 'tcp://192.168.137.111:7778')).toEqual({
      transport: 'tcp',
      host: '192.168.137.111',
      port: 7778,
    });
    expect(parseAddress('shtrih', 'tcp://kkt')).toEqual({ transport: 'tcp', host: 'kkt', port: 7778 });
    expect(parseAddress('shtrih', 'serial:///dev/ttyS0?baud=115200')).toEqual({
      transport: 'serial',
      path: '/dev/ttyS0',
      baudRate: 115200,
    });
    expect(parseAddress('shtrih', 'serial://COM3?baud=9600')).toEqual({
      transport: 'serial',
      path: 'COM3',
      baudRate: 9600,
    });
    expect(parseAddress('atol', 'http://127.0.0.1:16732')).toEqual({
      transport: 'http',
      url: 'http://127.0.0.1:16732',
    });
  });

  it('names file, key and reason for each bad value', () => {
    const cases: Array<[string, string]> = [
      [
        'fiscal: [{ driver: shtrih, address: "http://x" }]',
        'till.yml: fiscal[0].address: the shtrih driver needs tcp:// or serial://, got http://',
      ],
      [
        'fiscal: [{ driver: atol, address: "tcp://x:1" }]',
        'till.yml: fiscal[0].address: the atol driver needs an http:// address of the web server',
      ],
      [
        'fiscal: [{ driver: shtrih, address: "serial:///dev/ttyS0?baud=123" }]',
        'till.yml: fiscal[0].address: unsupported baud rate 123',
      ],
      [
        'fiscal: [{ driver: shtrih, address: "not a url" }]',
        'till.yml: fiscal[0].address: "not a url" is not a URL (e.g. tcp://127.0.0.1:7778)',
      ],
      [
        'fiscal: [{ driver: epson, address: "tcp://x" }]',
        'till.yml: fiscal[0].driver: expected "shtrih" or "atol"',
      ],
      ['fiscal: [{ driver: shtrih }]', 'till.yml: fiscal[0].address: required'],
      [
        'fiscal: [{ driver: shtrih, address: "tcp://x", password: "secret" }]',
        'till.yml: fiscal[0].password: the Shtrih operator password is a number (default 30)',
      ],
      [
        'fiscal: [{ driver: shtrih, address: "tcp://x", byte_timeout: soon }]',
        'till.yml: fiscal[0].byte_timeout: invalid duration "soon": expected a Prometheus duration such as "1h30m", "15s" or "500ms" (whole numbers; units y, w, d, h, m, s, ms, largest first)',
      ],
      [
        'fiscal: [{ driver: shtrih, address: "tcp://x", color: red }]',
        'till.yml: fiscal[0].color: unknown key',
      ],
      [
        'fiscal: [{ driver: shtrih, address: "tcp://x" }, { driver: atol, address: "http://y" }]',
        'till.yml: fiscal[1].device: duplicate device name "fiscal"',
      ],
      ['utm: { url: "ftp://x" }', 'till.yml: utm.url: expected an http:// URL such as http://127.0.0.1:8080'],
      [
        'utm: { url: "http://x", unsent_pattern: "(" }',
        'till.yml: utm.unsent_pattern: not a valid regular expression',
      ],
      ['marking: { username: a }', 'till.yml: marking.url: required'],
      [
        'fiscal: [{ driver: atol, address: "http://x", username: u, password: 1234 }]',
        'till.yml: fiscal[0].password: the ATOL web server password is a string (Basic auth), quote it',
      ],
    ];
    for (const [yaml, message] of cases) expect(problems(yaml), yaml).toBe(message);
  });

  it('accepts the example config sections', () => {
    expect(
      problems(
        'fiscal:\n  - { device: fiscal, driver: shtrih, address: "tcp://127.0.0.1:7778", password: 30 }\n' +
          '  - { device: fiscal_atol, driver: atol, address: "http://127.0.0.1:16732" }\n' +
          'utm: { url: "http://127.0.0.1:8080" }\nmarking: { url: "http://127.0.0.1:5995", username: admin, password: admin }\n',
      ),
    ).toBe('');
  });
});
