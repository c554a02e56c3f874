// Framing and reply layouts, plus a deterministic fuzz run: random and mutated frames must never
// make the decoder or the reply parsers throw anything but a DriverError, or hang.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@tillwatch/testkit';
import { DriverError } from '../errors.js';
import { FrameParser, decodeFrame, encodeFrame, lrc } from './codec.js';
import {
  CMD,
  FULL_STATUS_DATA_LENGTH,
  parseDeviceType,
  parseFnResource,
  parseFnStatus,
  parseFnValidity,
  parseFullStatus,
  parseOfdStatus,
  parseShortStatus,
  splitReply,
  wallClockToEpoch,
} from './commands.js';

describe('framing', () => {
  it('frames a command with LEN and the XOR of LEN, command and data', () => {
    // 0x10 short status with password 30: 02 05 10 1E 00 00 00 LRC
    const f = encodeFrame(Buffer.from([0x10, 0x1e, 0, 0, 0]));
    expect([...f]).toEqual([0x02, 0x05, 0x10, 0x1e, 0x00, 0x00, 0x00, 0x05 ^ 0x10 ^ 0x1e]);
    expect(decodeFrame(f)).toEqual({ kind: 'frame', payload: Buffer.from([0x10, 0x1e, 0, 0, 0]) });
  });

  it('counts both bytes of an FF command in LEN', () => {
    const f = encodeFrame(Buffer.from([0xff, 0x01, 30, 0, 0, 0]));
    expect(f[1]).toBe(6);
  });

  it('names a bad LRC, a missing STX, a zero length, a truncated frame and trailing bytes', () => {
    const f = encodeFrame(Buffer.from([0x11, 1, 0, 0, 0]));
    const bad = Buffer.from(f);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
    expect(decodeFrame(bad)).toMatchObject({ kind: 'error', reason: 'lrc' });
    expect(decodeFrame(Buffer.from([0x03, 1, 2]))).toMatchObject({ kind: 'error', reason: 'framing' });
    expect(decodeFrame(Buffer.from([0x02, 0]))).toMatchObject({
      reason: 'framing',
      detail: 'zero frame length',
    });
    expect(decodeFrame(f.subarray(0, 4))).toMatchObject({ reason: 'framing', detail: 'truncated frame' });
    expect(decodeFrame(Buffer.concat([f, Buffer.from([0])]))).toMatchObject({ reason: 'framing' });
  });

  it('refuses payloads the LEN byte cannot describe', () => {
    expect(() => encodeFrame(Buffer.alloc(0))).toThrow(RangeError);
    expect(() => encodeFrame(Buffer.alloc(256))).toThrow(RangeError);
  });
});

describe('reply layouts', () => {
  it('splits the error byte and refuses a reply to another command', () => {
    expect([...splitReply(CMD.fnStatus, Buffer.from([0xff, 0x01, 0, 7]))]).toEqual([7]);
    expect(() => splitReply(CMD.fnStatus, Buffer.from([0xff, 0x03, 0]))).toThrow(/expected FF01/);
    try {
      splitReply(CMD.shortStatus, Buffer.from([0x10, 0x6b]));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DriverError);
      expect((err as DriverError).reason).toBe('device_error');
      expect((err as DriverError).code).toBe(0x6b);
    }
  });

  it('reads the 0x11 clock at the vendor driver offsets, not the v1.17 PDF ones', () => {
    // 46 data bytes: the legacy FM fields (version, build, date) sit before the device date.
    const d = Buffer.alloc(FULL_STATUS_DATA_LENGTH);
    d[0] = 30;
    d.write('A1', 1, 'latin1');
    d.writeUInt16LE(4321, 3);
    d.writeUInt16LE(0x0482, 11); // flags
    d[13] = 2;
    d.set([25, 11, 26], 23); // 25.11.26
    d.set([12, 34, 56], 26); // 12:34:56
    d.writeUInt32LE(87654321, 30);
    d.writeUInt16LE(42, 34);
    // Where the PDF's shorter layout would put the date (offset 17), put a different, valid date:
    // a parser following the PDF would read 01.01.24.
    d.set([1, 1, 24, 0, 0, 0], 17);
    const st = parseFullStatus(d, 180);
    expect(st.deviceTime).toBe(wallClockToEpoch(2026, 11, 25, 12, 34, 56, 180));
    expect(st.deviceTime).toBe(Date.UTC(2026, 10, 25, 9, 34, 56) / 1000);
    expect(st).toMatchObject({
      serial: '87654321',
      firmwareVersion: 'A.1',
      firmwareBuild: 4321,
      flags: 0x0482,
      mode: 2,
      lastShift: 42,
    });
  });

  it('parses the FN, OFD and resource replies', () => {
    const fn = Buffer.alloc(30);
    fn.set([3, 0, 0, 1, 0b1000_0101, 26, 11, 25, 10, 5]);
    fn.write('9999078900012345', 10, 'latin1');
    fn.writeUInt32LE(777, 26);
    expect(parseFnStatus(fn, 0)).toEqual({
      lifePhase: 3,
      shiftOpen: true,
      warnings: 0x85,
      lastDocumentTime: Date.UTC(2026, 10, 25, 10, 5) / 1000,
      fnSerial: '9999078900012345',
      lastDocumentNumber: 777,
    });
    expect(parseFnValidity(Buffer.from([27, 6, 1, 3, 1]), 0).expiry).toBe(Date.UTC(2027, 5, 1) / 1000);
    const ofd = Buffer.from([1, 0, 5, 0, 10, 0, 0, 0, 26, 11, 20, 8, 30]);
    expect(parseOfdStatus(ofd, 0)).toEqual({
      statusBits: 1,
      readState: 0,
      queueLength: 5,
      firstUnsentNumber: 10,
      firstUnsentTime: Date.UTC(2026, 10, 20, 8, 30) / 1000,
    });
    expect(parseOfdStatus(Buffer.alloc(13), 0).firstUnsentTime).toBeUndefined();
    const res = Buffer.alloc(9);
    res.writeUInt32LE(123456, 0);
    res.writeUInt32LE(900, 4);
    expect(parseFnResource(res)).toEqual({ documentsRemaining: 123456, freeKb: 900 });
    expect(parseShortStatus(Buffer.from([30, 0x80, 0x04, 4, 0]))).toEqual({
      operator: 30,
      flags: 0x0480,
      mode: 4,
      submode: 0,
    });
    expect(parseDeviceType(Buffer.from([0, 0, 1, 0, 0, 0, 0xd8, 0xd2, 0xd0, 0xc8, 0xd5]))).toEqual({
      modelId: 0,
      name: 'ШТРИХ',
    });
  });

  it('rejects short replies and impossible dates with a parse error', () => {
    expect(() => parseFnStatus(Buffer.alloc(10))).toThrow(DriverError);
    expect(() => parseFnValidity(Buffer.from([27, 13, 1]))).toThrow(/invalid device date/);
    expect(() => parseFullStatus(Buffer.alloc(20))).toThrow(/need 36/);
  });
});

const PARSERS: Array<(d: Buffer) => unknown> = [
  (d) => parseShortStatus(d),
  (d) => parseFullStatus(d, 180),
  (d) => parseFullStatus(d),
  (d) => parseDeviceType(d),
  (d) => parseFnStatus(d, 0),
  (d) => parseFnValidity(d),
  (d) => parseOfdStatus(d, -300),
  (d) => parseFnResource(d),
  (d) => splitReply(CMD.fnStatus, d),
  (d) => splitReply(CMD.fullStatus, d),
];

describe('fuzz', () => {
  it('survives 10,000 random and mutated frames without an escaping throw', () => {
    const rnd = seededRandom(0x5eed);
    const int = (n: number) => Math.floor(rnd() * n);
    const valid = [
      encodeFrame(Buffer.concat([Buffer.from([0x11, 0]), Buffer.alloc(46, 7)])),
      encodeFrame(Buffer.from([0xff, 0x01, 0, ...Buffer.alloc(30, 1)])),
      encodeFrame(Buffer.from([0x10, 0, 30, 0x80, 0, 2, 0])),
    ];
    let frames = 0;
    let errors = 0;
    const started = Date.now();
    for (let i = 0; i < 10_000; i++) {
      let buf: Buffer;
      const mode = i % 4;
      if (mode === 0) {
        buf = Buffer.from(Array.from({ length: int(300) }, () => int(256)));
      } else if (mode === 1) {
        // Well-framed, LRC-correct replies with random content and length: only the parsers can object.
        const cmd = [[0x10], [0x11], [0xfc], [0xff, 0x01], [0xff, 0x03], [0xff, 0x39], [0xff, 0x63]][
          int(7)
        ] as number[];
        const body = Array.from({ length: int(60) }, () => (rnd() < 0.3 ? 0 : int(256)));
        buf = encodeFrame(Buffer.from([...cmd, ...body]));
      } else {
        buf = Buffer.from(valid[int(valid.length)] as Buffer);
        const mutations = 1 + int(4);
        for (let m = 0; m < mutations; m++) {
          const op = int(4);
          if (op === 0 && buf.length) buf[int(buf.length)] = int(256);
          else if (op === 1) buf = buf.subarray(0, int(buf.length + 1));
          else if (op === 2) buf = Buffer.concat([buf, Buffer.from([int(256), int(256)])]);
          else if (op === 3 && buf.length > 1) buf[1] = int(256); // lie about LEN
        }
      }
      // The one-shot decoder and the byte-at-a-time parser must both stay total.
      const ev = decodeFrame(buf);
      const parser = new FrameParser();
      for (const b of buf) parser.push(b);
      if (ev.kind === 'frame') {
        frames++;
        const payload = ev.payload;
        if (lrc(Buffer.concat([Buffer.from([payload.length]), payload])) !== buf[buf.length - 1]) {
          throw new Error(`decoder accepted a frame with a wrong LRC: ${buf.toString('hex')}`);
        }
        for (const p of PARSERS) {
          try {
            p(payload.subarray(int(3)));
          } catch (err) {
            if (!(err instanceof DriverError)) throw err;
            errors++;
          }
        }
      }
      // Every data slice is also thrown straight at the parsers, valid frame or not.
      for (const p of PARSERS) {
        try {
          p(buf);
        } catch (err) {
          if (!(err instanceof DriverError)) throw err;
          errors++;
        }
      }
    }
    expect(frames).toBeGreaterThan(2000);
    expect(errors).toBeGreaterThan(1000);
    // No hang: the whole run is bounded (a generous bound, not a timing assertion).
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
