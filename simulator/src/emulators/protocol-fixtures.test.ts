// The emulators' side of the byte fixtures in docs/protocols/fixtures/: sent the documented requests over
// loopback, each emulator must answer exactly the documented bytes. The host side is played by the fixture
// itself, never by the exporter's drivers, which are held to the same fixtures on their own
// (exporter/src/drivers/protocol-fixtures.test.ts).
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bytes, hexOf, loadFixture, localSeconds } from '@tillwatch/testkit';
import { AtolEmulator } from './atol-emulator.js';
import type { Fault } from './faults.js';
import { defaultFiscalState, type FiscalState } from './fiscal-state.js';
import { MarkingEmulator } from './marking-emulator.js';
import { ShtrihEmulator } from './shtrih-emulator.js';
import { UtmEmulator } from './utm-emulator.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
});

async function started<E extends { start(): Promise<void>; stop(): Promise<void> }>(emu: E): Promise<E> {
  await emu.start();
  stops.push(() => emu.stop());
  return emu;
}

/**
 * The registrar of docs/protocols/README.md ("Fixture device") as emulator state: the emulator's defaults
 * (serial, FN number, firmware, paper in, shift 42 open, no warnings, 240,000 documents, OFD connected) plus
 * the fixture's times and queue.
 */
function fixtureRegistrar(nowMs: number, zone: number, model: string): FiscalState {
  const at = (t: string) => localSeconds(t, zone);
  return {
    ...defaultFiscalState(nowMs / 1000),
    model,
    shiftOpenedAt: at('2026-11-25 11:00:00'),
    fnExpiry: at('2027-06-01 00:00:00'),
    ofdQueue: 3,
    ofdOldestUnsentAt: at('2026-11-23 12:00:00'),
    clockOffsetSeconds: 90,
  };
}

/** A host on a loopback socket: writes bytes and reads exactly as many as it expects back. */
async function host(port: number) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  stops.push(async () => void sock.destroy());
  let received = Buffer.alloc(0);
  let wake: (() => void) | null = null;
  sock.on('data', (c: Buffer) => {
    received = Buffer.concat([received, c]);
    wake?.();
  });
  // Returns as soon as the bytes stop matching, so a wrong answer fails at once instead of waiting for bytes
  // that will never come.
  const read = async (want: Buffer): Promise<string> => {
    const matches = () => received.subarray(0, want.length).equals(want.subarray(0, received.length));
    while (received.length < want.length && matches()) await new Promise<void>((r) => (wake = r));
    const out = received.subarray(0, want.length);
    received = received.subarray(out.length);
    return hexOf(out);
  };
  return {
    /** Sends `send` and returns the device's answer, as long as `expected` or up to where it differs. */
    async exchange(send: string, expected: string): Promise<string> {
      sock.write(bytes(send));
      return read(bytes(expected));
    },
    /**
     * ENQ must be answered by NAK and nothing before it: proves the device sent no stray byte (nothing to a
     * frame it ignores, no second copy of a reply).
     */
    async nothingPending(): Promise<string> {
      sock.write(bytes('05'));
      return read(bytes('15'));
    },
  };
}

describe('Shtrih emulator against docs/protocols/fixtures/shtrih-m.yml', () => {
  const fx = loadFixture('shtrih-m');
  const emulator = (state: Partial<FiscalState> = {}) =>
    started(
      new ShtrihEmulator({
        now: () => Date.parse(fx.now),
        utcOffsetMinutes: fx.zone_minutes,
        state: { ...fixtureRegistrar(Date.parse(fx.now), fx.zone_minutes, 'ШТРИХ-М-01Ф'), ...state },
      }),
    );

  for (const c of fx.commands) {
    it(`${c.name} (${c.doc})`, async () => {
      const emu = await emulator(c.device_error === undefined ? {} : { errorCode: c.device_error });
      const h = await host(emu.port);
      expect(await h.exchange('05', '15')).toBe('15');
      expect(await h.exchange(c.request, `06 ${c.reply}`)).toBe(`06 ${c.reply}`);
      expect(await h.exchange('06', '')).toBe('');
      expect(await h.nothingPending()).toBe('15');
    });
  }

  for (const d of fx.dialogues) {
    it(`plays the device in: ${d.name} (${d.doc})`, async () => {
      const emu = await emulator();
      if (d.fault) emu.fault(d.fault as Fault);
      const h = await host(emu.port);
      for (const s of d.steps) expect(await h.exchange(s.host, s.device)).toBe(s.device);
      expect(await h.nothingPending()).toBe('15');
    });
  }

  for (const d of fx.damaged) {
    it(`answers ${d.name} with ${d.device || 'nothing'} (${d.doc})`, async () => {
      const emu = await emulator();
      const h = await host(emu.port);
      expect(await h.exchange('05', '15')).toBe('15');
      expect(await h.exchange(d.frame, d.device)).toBe(d.device);
      expect(await h.nothingPending()).toBe('15');
    });
  }
});

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() };
}

describe('ATOL emulator against docs/protocols/fixtures/atol.yml', () => {
  const fx = loadFixture('atol');
  const emulator = (extra: Record<string, unknown> = {}) =>
    started(
      new AtolEmulator({
        now: () => Date.parse(fx.now),
        utcOffsetMinutes: fx.zone_minutes,
        state: {
          ...fixtureRegistrar(Date.parse(fx.now), fx.zone_minutes, 'АТОЛ 30Ф'),
          pendingPolls: 1,
          ...extra,
        },
      }),
    );
  const submit = (base: string, body: unknown) =>
    getJson(`${base}${fx.submit.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  for (const shape of ['nested', 'flat', 'bare'] as const) {
    it(`answers the documented request with the ${shape} shape (${fx.done[shape].doc})`, async () => {
      const emu = await emulator({ resultShape: shape });
      expect(await submit(emu.address, fx.submit.body)).toEqual(fx.submit.answer);
      expect(await getJson(`${emu.address}${fx.queued.path}`)).toEqual({ status: 200, body: fx.queued.body });
      expect(await getJson(`${emu.address}${fx.queued.path}`)).toEqual({
        status: 200,
        body: fx.done[shape].body,
      });
    });
  }

  it(`answers the FN free-resource task (${fx.fn_resource.doc})`, async () => {
    const emu = await emulator({ pendingPolls: 0 });
    const uuid = fx.submit.body.uuid;
    await submit(emu.address, { uuid, request: fx.fn_resource.request });
    expect(await getJson(`${emu.address}/api/v2/requests/${uuid}`)).toEqual({
      status: 200,
      body: fx.fn_resource.body,
    });
  });

  it(`answers a failed task with its error code (${fx.task_error.doc})`, async () => {
    const emu = await emulator({ pendingPolls: 0 });
    emu.fault(fx.task_error.fault as Fault);
    const uuid = fx.submit.body.uuid;
    await submit(emu.address, { uuid, request: fx.task_error.request });
    expect(await getJson(`${emu.address}/api/v2/requests/${uuid}`)).toEqual({
      status: 200,
      body: fx.task_error.body,
    });
  });
});

describe('UTM emulator against docs/protocols/fixtures/utm.yml', () => {
  const fx = loadFixture('utm');
  const at = (t: string) => localSeconds(t, fx.zone_minutes);

  for (const page of fx.home_pages) {
    it(`serves /api/info/list, /info/version and the home page with ${page.name} (${page.doc})`, async () => {
      const emu = await started(
        new UtmEmulator({
          now: () => Date.parse(fx.now),
          utcOffsetMinutes: fx.zone_minutes,
          state: {
            version: '4.2.0',
            fsrarId: '030000123456',
            contour: 'prod',
            rsaExpiry: at('2027-06-13 12:00:00'),
            gostExpiry: at('2027-08-02 12:00:00'),
            unsentReceipts: page.unsent,
            oldestUnsentAt: page.unsent > 0 ? at('2026-11-23 12:00:00') : null,
          },
        }),
      );
      expect(await getJson(`${emu.address}${fx.info_list.path}`)).toEqual({
        status: 200,
        body: fx.info_list.body,
      });
      expect(await (await fetch(`${emu.address}${fx.version.path}`)).text()).toBe(fx.version.text);
      expect(await (await fetch(`${emu.address}${page.path}`)).text()).toBe(page.text);
    });
  }
});

describe('marking emulator against docs/protocols/fixtures/marking.yml', () => {
  const fx = loadFixture('marking');

  it(`answers the documented credentials with the status and others with 401 (${fx.status.doc})`, async () => {
    const emu = await started(
      new MarkingEmulator({
        now: () => Date.parse(fx.now),
        state: {
          status: 'ready',
          operationMode: 'active',
          lastSync: localSeconds('2026-11-25 11:50:00', fx.zone_minutes),
          requiresDownload: false,
          version: '1.4.2',
          dbVersion: '2026.11.01',
        },
      }),
    );
    const get = (authorization: string) =>
      getJson(`${emu.address}${fx.status.path}`, { headers: { authorization } });
    expect(await get(fx.status.authorization)).toEqual({ status: 200, body: fx.status.body });
    expect(await get(fx.unauthorized.authorization)).toEqual(fx.unauthorized.answer);
  });
});
