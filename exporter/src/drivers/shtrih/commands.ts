// Shtrih-M command requests and reply layouts (docs/protocols/shtrih-m.md, "Replies").
// Reply payload = command byte(s), error byte, data. Every parser checks lengths and throws a
// DriverError('parse') rather than reading past the end: a garbage reply must never crash a poll.
import { DriverError } from '../errors.js';
import { hex } from './codec.js';

export const CMD = {
  shortStatus: [0x10],
  fullStatus: [0x11],
  deviceType: [0xfc],
  fnStatus: [0xff, 0x01],
  fnValidity: [0xff, 0x03],
  ofdStatus: [0xff, 0x39],
  fnResource: [0xff, 0x63],
  shiftParams: [0xff, 0x40],
  findDocument: [0xff, 0x0a],
} as const;

export type CommandCode = readonly number[];

export function commandName(cmd: CommandCode): string {
  return cmd.map(hex).join('').toUpperCase();
}

/**
 * Request payload: command bytes, then the 4-byte little-endian password (omitted for 0xFC), then the
 * command's own arguments (FF0A: the document number).
 */
export function buildRequest(cmd: CommandCode, password?: number, args?: Buffer): Buffer {
  const head = Buffer.from(cmd);
  if (password === undefined) return head;
  const pw = Buffer.alloc(4);
  pw.writeUInt32LE(password >>> 0);
  return Buffer.concat([head, pw, args ?? Buffer.alloc(0)]);
}

/** The FF0A argument: a fiscal document number, 4 bytes little-endian. */
export function documentNumberArg(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/**
 * Splits a reply payload into error byte and data. Throws DriverError('framing') when the reply
 * answers another command, DriverError('device_error', code) on a non-zero error byte.
 */
export function splitReply(cmd: CommandCode, payload: Buffer): Buffer {
  if (payload.length < cmd.length + 1) {
    throw new DriverError('framing', `reply to ${commandName(cmd)} too short (${payload.length} bytes)`);
  }
  for (let i = 0; i < cmd.length; i++) {
    if (payload[i] !== cmd[i]) {
      throw new DriverError(
        'framing',
        `reply is for command ${commandName([...payload.subarray(0, cmd.length)])}, expected ${commandName(cmd)}`,
      );
    }
  }
  const err = payload[cmd.length] ?? 0;
  if (err !== 0) {
    throw new DriverError('device_error', `command ${commandName(cmd)} failed with error 0x${hex(err)}`, err);
  }
  return payload.subarray(cmd.length + 1);
}

function need(cmd: CommandCode, data: Buffer, n: number): void {
  if (data.length < n) {
    throw new DriverError('parse', `reply to ${commandName(cmd)} has ${data.length} data bytes, need ${n}`);
  }
}

/**
 * Device wall-clock fields to Unix seconds. Registrars keep local time without a zone:
 * `utcOffsetMinutes` says which zone; undefined means the host's zone.
 */
export function wallClockToEpoch(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  utcOffsetMinutes?: number,
): number {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) {
    throw new DriverError('parse', `invalid device date ${y}-${mo}-${d} ${h}:${mi}:${s}`);
  }
  const ms =
    utcOffsetMinutes === undefined
      ? new Date(y, mo - 1, d, h, mi, s).getTime()
      : Date.UTC(y, mo - 1, d, h, mi, s) - utcOffsetMinutes * 60_000;
  return Math.floor(ms / 1000);
}

/** The inverse, for the emulator. */
export function epochToWallClock(
  seconds: number,
  utcOffsetMinutes?: number,
): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  if (utcOffsetMinutes === undefined) {
    const t = new Date(seconds * 1000);
    return {
      y: t.getFullYear(),
      mo: t.getMonth() + 1,
      d: t.getDate(),
      h: t.getHours(),
      mi: t.getMinutes(),
      s: t.getSeconds(),
    };
  }
  const t = new Date(seconds * 1000 + utcOffsetMinutes * 60_000);
  return {
    y: t.getUTCFullYear(),
    mo: t.getUTCMonth() + 1,
    d: t.getUTCDate(),
    h: t.getUTCHours(),
    mi: t.getUTCMinutes(),
    s: t.getUTCSeconds(),
  };
}

export interface ShortStatus {
  operator: number;
  flags: number;
  mode: number;
  submode: number;
}

/** 0x10: operator(1), flags(2), mode(1), submode(1), then model-dependent bytes (ignored). */
export function parseShortStatus(data: Buffer): ShortStatus {
  need(CMD.shortStatus, data, 5);
  return {
    operator: data.readUInt8(0),
    flags: data.readUInt16LE(1),
    mode: data.readUInt8(3),
    submode: data.readUInt8(4),
  };
}

export interface FullStatus {
  operator: number;
  firmwareVersion: string;
  firmwareBuild: number;
  documentNumber: number;
  flags: number;
  mode: number;
  submode: number;
  /** Device clock, Unix seconds. */
  deviceTime: number;
  serial: string;
  lastShift: number;
}

/** Data length of the 0x11 reply after command and error bytes (48 bytes with them). */
export const FULL_STATUS_DATA_LENGTH = 46;

/**
 * 0x11, following the vendor driver's 48-byte layout (ReadLongStatus/LongPrinterStatus), which keeps
 * the legacy fiscal-memory fields the v1.17 PDF leaves out. Offsets below are into the data after
 * the error byte, so the date sits at 23 here (24 counting the error byte); docs/protocols/shtrih-m.md,
 * "0x11 full status", explains the difference.
 */
export function parseFullStatus(data: Buffer, utcOffsetMinutes?: number): FullStatus {
  need(CMD.fullStatus, data, 36);
  const fwMajor = String.fromCharCode(data.readUInt8(1));
  const fwMinor = String.fromCharCode(data.readUInt8(2));
  const d = (i: number): number => data.readUInt8(i);
  const deviceTime = wallClockToEpoch(2000 + d(25), d(24), d(23), d(26), d(27), d(28), utcOffsetMinutes);
  return {
    operator: d(0),
    firmwareVersion: `${fwMajor}.${fwMinor}`,
    firmwareBuild: data.readUInt16LE(3),
    documentNumber: data.readUInt16LE(9),
    flags: data.readUInt16LE(11),
    mode: d(13),
    submode: d(14),
    deviceTime,
    serial: String(data.readUInt32LE(30)),
    lastShift: data.readUInt16LE(34),
  };
}

/** 0xFC: protocol type, subtype, version, subversion, model, language, then the model name (CP1251). */
export function parseDeviceType(data: Buffer): { modelId: number; name: string } {
  need(CMD.deviceType, data, 6);
  return { modelId: data.readUInt8(4), name: decodeCp1251(data.subarray(6)).replace(/\0+$/, '').trim() };
}

export interface FnStatus {
  lifePhase: number;
  shiftOpen: boolean;
  warnings: number;
  lastDocumentTime: number;
  fnSerial: string;
  lastDocumentNumber: number;
}

/** FF01: phase(1), current doc(1), doc data(1), shift open(1), warnings(1), YYMMDDHHMM(5), FN number(16), last doc(4). */
export function parseFnStatus(data: Buffer, utcOffsetMinutes?: number): FnStatus {
  need(CMD.fnStatus, data, 30);
  const d = (i: number): number => data.readUInt8(i);
  return {
    lifePhase: d(0),
    shiftOpen: d(3) !== 0,
    warnings: d(4),
    lastDocumentTime: wallClockToEpoch(2000 + d(5), d(6), d(7), d(8), d(9), 0, utcOffsetMinutes),
    fnSerial: data.subarray(10, 26).toString('latin1').replace(/\0+$/, '').trim(),
    lastDocumentNumber: data.readUInt32LE(26),
  };
}

/** FF03: validity date YYMMDD (end of that day, device time), optional re-registration counters. */
export function parseFnValidity(data: Buffer, utcOffsetMinutes?: number): { expiry: number } {
  need(CMD.fnValidity, data, 3);
  const d = (i: number): number => data.readUInt8(i);
  return { expiry: wallClockToEpoch(2000 + d(0), d(1), d(2), 0, 0, 0, utcOffsetMinutes) };
}

export interface OfdStatus {
  statusBits: number;
  readState: number;
  queueLength: number;
  firstUnsentNumber: number;
  /** Undefined when nothing is unsent (the device then reports zeros). */
  firstUnsentTime?: number;
}

/** FF39: status bits(1), read state(1), queue(2), first unsent doc number(4), first unsent YYMMDDHHMM(5). */
export function parseOfdStatus(data: Buffer, utcOffsetMinutes?: number): OfdStatus {
  need(CMD.ofdStatus, data, 13);
  const d = (i: number): number => data.readUInt8(i);
  const queueLength = data.readUInt16LE(2);
  const empty = d(8) === 0 && d(9) === 0 && d(10) === 0;
  return {
    statusBits: d(0),
    readState: d(1),
    queueLength,
    firstUnsentNumber: data.readUInt32LE(4),
    firstUnsentTime:
      queueLength === 0 || empty
        ? undefined
        : wallClockToEpoch(2000 + d(8), d(9), d(10), d(11), d(12), 0, utcOffsetMinutes),
  };
}

/** FF63: documents remaining(4), free KB of the 30-day area(4), marking area % (optional). */
export function parseFnResource(data: Buffer): { documentsRemaining: number; freeKb: number } {
  need(CMD.fnResource, data, 8);
  return { documentsRemaining: data.readUInt32LE(0), freeKb: data.readUInt32LE(4) };
}

export interface ShiftParams {
  shiftOpen: boolean;
  shiftNumber: number;
  /** Receipts in the shift so far. */
  receiptNumber: number;
}

/** FF40: shift state(1: 0 closed, 1 open), shift number(2), receipt number in the shift(2). */
export function parseShiftParams(data: Buffer): ShiftParams {
  need(CMD.shiftParams, data, 5);
  return {
    shiftOpen: data.readUInt8(0) !== 0,
    shiftNumber: data.readUInt16LE(1),
    receiptNumber: data.readUInt16LE(3),
  };
}

/** Fiscal document types that matter for the shift's age (docs/protocols/shtrih-m.md, "FF0A find fiscal document"). */
export const DOCUMENT_TYPE = { shiftOpen: 2, receipt: 3, shiftClose: 5 } as const;

export interface FiscalDocument {
  type: number;
  /** The OFD acknowledged the document. */
  ofdAcknowledged: boolean;
  /** When the document was made, Unix seconds (minute precision). */
  time: number;
  number: number;
  /** Shift number, for the shift opening and closing reports only. */
  shiftNumber?: number;
}

/**
 * FF0A: document type(1), OFD receipt flag(1), then the document: date-time(5 YYMMDDHHMM), number(4), fiscal
 * sign(4); the shift reports (types 2 and 5) then carry the shift number(2).
 */
export function parseFiscalDocument(data: Buffer, utcOffsetMinutes?: number): FiscalDocument {
  need(CMD.findDocument, data, 11);
  const d = (i: number): number => data.readUInt8(i);
  const type = d(0);
  const doc: FiscalDocument = {
    type,
    ofdAcknowledged: d(1) !== 0,
    time: wallClockToEpoch(2000 + d(2), d(3), d(4), d(5), d(6), 0, utcOffsetMinutes),
    number: data.readUInt32LE(7),
  };
  if (type === DOCUMENT_TYPE.shiftOpen || type === DOCUMENT_TYPE.shiftClose) {
    need(CMD.findDocument, data, 17);
    doc.shiftNumber = data.readUInt16LE(15);
  }
  return doc;
}

const CP1251_HIGH =
  'ЂЃ‚ѓ„…†‡€‰Љ‹ЊЌЋЏђ‘’“”•–—\u0098™љ›њќћџ\u00a0ЎўЈ¤Ґ¦§Ё©Є«¬\u00ad®Ї°±Ііґµ¶·ё№є»јЅѕї' +
  'АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюя';

/** Model names are CP1251; Node has no CP1251 decoder without full ICU data, so map by table. */
export function decodeCp1251(buf: Uint8Array): string {
  let s = '';
  for (const b of buf) s += b < 0x80 ? String.fromCharCode(b) : (CP1251_HIGH[b - 0x80] ?? '?');
  return s;
}

export function encodeCp1251(text: string): Buffer {
  const out: number[] = [];
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (code < 0x80) out.push(code);
    else {
      const i = CP1251_HIGH.indexOf(ch);
      out.push(i >= 0 ? 0x80 + i : 0x3f);
    }
  }
  return Buffer.from(out);
}
