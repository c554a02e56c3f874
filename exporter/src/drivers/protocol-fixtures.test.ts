// The exporter's side of the byte fixtures in docs/protocols/fixtures/: requests must encode to exactly the
// bytes written from the protocol pages, and the documented replies must decode to the documented values.
// The device side is played by the fixture itself (a loopback peer that replays its bytes), never by the
// simulator's emulators, which are held to the same fixtures on their own
// (simulator/src/emulators/protocol-fixtures.test.ts).
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bytes, hexOf, loadFixture, withSeconds } from '@tillwatch/testkit';
import { AtolDriver } from './atol/client.js';
import { DriverError } from './errors.js';
import { readMarking } from './marking/client.js';
import { decodeFrame, encodeFrame } from './shtrih/codec.js';
import {
  buildRequest,
  parseDeviceType,
  parseFiscalDocument,
  parseFnResource,
  parseFnStatus,
  parseFnValidity,
  parseFullStatus,
  parseOfdStatus,
  parseShiftParams,
  parseShortStatus,
  splitReply,
} from './shtrih/commands.js';
import { openTcp } from './shtrih/link.js';
import { ShtrihSession } from './shtrih/session.js';
import { UTM_DEFAULTS, readUtm } from './utm/client.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

describe('Shtrih-M codec against docs/protocols/fixtures/shtrih-m.yml', () => {
  const fx = loadFixture('shtrih-m');
  const decoders: Record<string, (data: Buffer) => unknown> = {
    FC: (d) => parseDeviceType(d),
    '10': (d) => parseShortStatus(d),
    '11': (d) => parseFullStatus(d, fx.zone_minutes),
    FF01: (d) => parseFnStatus(d, fx.zone_minutes),
    FF03: (d) => parseFnValidity(d, fx.zone_minutes),
    FF39: (d) => parseOfdStatus(d, fx.zone_minutes),
    FF63: (d) => parseFnResource(d),
    FF40: (d) => parseShiftParams(d),
    FF0A: (d) => parseFiscalDocument(d, fx.zone_minutes),
  };

  for (const c of fx.commands) {
    it(`${c.name} (${c.doc})`, () => {
      const code = [...bytes(c.command)];
      const args = c.argument === undefined ? undefined : bytes(c.argument);
      expect(hexOf(encodeFrame(buildRequest(code, c.password, args)))).toBe(c.request);
      const reply = decodeFrame(bytes(c.reply));
      if (reply.kind !== 'frame') throw new Error(`reply does not decode: ${reply.detail}`);
      if (typeof c.expect.error === 'number') {
        const err = (() => {
          try {
            splitReply(code, reply.payload);
          } catch (e) {
            return e;
          }
        })();
        expect(err).toBeInstanceOf(DriverError);
        expect(err).toMatchObject({ reason: 'device_error', code: c.expect.error });
        return;
      }
      const decode = decoders[c.command];
      if (!decode) throw new Error(`no decoder for ${c.command}`);
      expect(decode(splitReply(code, reply.payload))).toEqual(withSeconds(c.expect, fx.zone_minutes));
    });
  }

  for (const d of fx.damaged) {
    it(`refuses ${d.name} as ${d.reason} (${d.doc})`, () => {
      expect(decodeFrame(bytes(d.frame))).toMatchObject({ kind: 'error', reason: d.reason });
    });
  }

  /** A device that answers each expected host write with the fixture's bytes, over a loopback socket. */
  async function replayDevice(steps: Array<{ host: string; device: string }>) {
    const state = { step: 0, mismatch: '' };
    const port = await listen(
      net.createServer((sock) => {
        let buf = Buffer.alloc(0);
        sock.on('error', () => undefined);
        sock.on('data', (chunk: Buffer) => {
          buf = Buffer.concat([buf, chunk]);
          for (let s = steps[state.step]; s && buf.length >= bytes(s.host).length; s = steps[state.step]) {
            const want = bytes(s.host);
            const got = buf.subarray(0, want.length);
            if (!got.equals(want)) {
              state.mismatch = `step ${state.step + 1}: host sent ${hexOf(got)}, expected ${s.host}`;
              sock.destroy();
              return;
            }
            buf = buf.subarray(want.length);
            state.step++;
            if (s.device) sock.write(bytes(s.device));
          }
          if (buf.length > 0 && state.step >= steps.length) state.mismatch = `extra bytes ${hexOf(buf)}`;
        });
      }),
    );
    return { port, state };
  }

  for (const d of fx.dialogues) {
    it(`plays the host in: ${d.name} (${d.doc})`, async () => {
      const device = await replayDevice(d.steps);
      const request = bytes(d.steps[1]?.host ?? '');
      const lastReply = bytes([...d.steps].reverse().find((s) => s.device.length > 6)?.device ?? '');
      const reply = lastReply[0] === 0x06 ? lastReply.subarray(1) : lastReply;
      const link = await openTcp('127.0.0.1', device.port, 1000);
      closers.push(() => link.close());
      const session = new ShtrihSession(link, { byteTimeoutMs: 500, replyTimeoutMs: 1000, retries: 1 });
      const payload = await session.exchange(request.subarray(2, -1));
      expect(hexOf(payload)).toBe(hexOf(reply.subarray(2, -1)));
      await vi.waitFor(() => expect(device.state).toEqual({ step: d.steps.length, mismatch: '' }));
    });
  }
});

interface Recorded {
  method: string;
  path: string;
  authorization?: string;
  body: string;
}

/** An HTTP device that answers each path from the fixture, in turn (the last answer repeats). */
async function replayHttp(routes: Record<string, Array<{ status?: number; body: unknown }>>) {
  const seen: Recorded[] = [];
  const port = await listen(
    http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const path = req.url ?? '';
        seen.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
        const key = `${req.method} ${path}`;
        const answers = routes[key] ?? routes[`${req.method} ${path.replace(/[^/]+$/, '*')}`];
        const a = answers && answers.length > 1 ? answers.shift() : answers?.[0];
        if (!a) {
          res.writeHead(404).end();
          return;
        }
        const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
        const type = typeof a.body === 'string' ? 'text/html; charset=utf-8' : 'application/json';
        res.writeHead(a.status ?? 200, { 'content-type': type }).end(text);
      });
    }),
  );
  return { url: `http://127.0.0.1:${port}`, seen };
}

describe('ATOL driver against docs/protocols/fixtures/atol.yml', () => {
  const fx = loadFixture('atol');
  const now = () => Date.parse(fx.now);

  for (const shape of ['nested', 'flat', 'bare'] as const) {
    it(`submits the documented request and reads the ${shape} answer (${fx.done[shape].doc})`, async () => {
      const dev = await replayHttp({
        [`POST ${fx.submit.path}`]: [fx.submit.answer],
        'GET /api/v2/requests/*': [{ body: fx.queued.body }, { body: fx.done[shape].body }],
      });
      const driver = new AtolDriver({
        url: dev.url,
        requestTimeoutMs: 2000,
        resultPollMs: 10,
        batch: true,
        utcOffsetMinutes: fx.zone_minutes,
        fnResourceTask: '',
      });
      const poll = await driver.poll(AbortSignal.timeout(10_000), now);
      expect(poll.errors).toEqual([]);
      expect(poll.snapshot).toEqual(withSeconds(fx.expect, fx.zone_minutes));
      const [submit, ...gets] = dev.seen;
      const sent = JSON.parse(submit?.body ?? '') as { uuid: string; request: unknown };
      expect(sent.request).toEqual(fx.submit.body.request);
      expect(sent.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(gets.map((g) => `${g.method} ${g.path}`)).toEqual([
        `GET /api/v2/requests/${sent.uuid}`,
        `GET /api/v2/requests/${sent.uuid}`,
      ]);
    });
  }

  it(`asks the FN's free resource in a request of its own (${fx.fn_resource.doc})`, async () => {
    const dev = await replayHttp({
      [`POST ${fx.submit.path}`]: [fx.submit.answer],
      'GET /api/v2/requests/*': [
        { body: fx.queued.body },
        { body: fx.done.nested.body },
        { body: fx.fn_resource.body },
      ],
    });
    const driver = new AtolDriver({ url: dev.url, requestTimeoutMs: 2000, resultPollMs: 10, batch: true });
    const poll = await driver.poll(AbortSignal.timeout(10_000), now);
    expect(poll.errors).toEqual([]);
    const submitted = dev.seen.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body).request);
    expect(submitted).toEqual([fx.submit.body.request, fx.fn_resource.request]);
    expect(poll.snapshot).toMatchObject(fx.fn_resource.expect);
  });

  it(`reports a failed task as a device error with its code (${fx.task_error.doc})`, async () => {
    const dev = await replayHttp({
      [`POST ${fx.submit.path}`]: [fx.submit.answer],
      'GET /api/v2/requests/*': [{ body: fx.task_error.body }],
    });
    // One request per task: the fixture answers the getFnInfo request only, so poll that one task alone.
    const driver = new AtolDriver({ url: dev.url, requestTimeoutMs: 2000, resultPollMs: 10, batch: false });
    const poll = await driver.poll(AbortSignal.timeout(10_000), now);
    const submitted = dev.seen.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body).request);
    expect(submitted).toContainEqual(fx.task_error.request);
    expect(poll.errors.map((e) => [e.reason, e.code])).toContainEqual([
      'device_error',
      fx.task_error.expect.error,
    ]);
  });
});

describe('UTM client against docs/protocols/fixtures/utm.yml', () => {
  const fx = loadFixture('utm');

  for (const page of fx.home_pages) {
    it(`reads /api/info/list and the home page with ${page.name} (${page.doc})`, async () => {
      const dev = await replayHttp({
        [`GET ${fx.info_list.path}`]: [{ body: fx.info_list.body }],
        [`GET ${page.path}`]: [{ body: page.text }],
      });
      const status = await readUtm(
        { url: dev.url, timeoutMs: 2000, utcOffsetMinutes: fx.zone_minutes, ...UTM_DEFAULTS },
        AbortSignal.timeout(10_000),
      );
      const oldest = withSeconds(page.expect.oldestUnsent, fx.zone_minutes);
      expect(status).toEqual({
        ...(withSeconds(fx.info_list.expect, fx.zone_minutes) as object),
        oldestUnsent: oldest ?? undefined,
        warnings: [],
      });
    });
  }
});

describe('marking client against docs/protocols/fixtures/marking.yml', () => {
  const fx = loadFixture('marking');
  const routes = () => ({ [`GET ${fx.status.path}`]: [{ body: fx.status.body }] });

  it(`sends the documented credentials and reads the status (${fx.status.doc})`, async () => {
    const dev = await replayHttp(routes());
    const status = await readMarking(
      { url: dev.url, username: 'admin', password: 'admin', timeoutMs: 2000 },
      AbortSignal.timeout(10_000),
    );
    expect(dev.seen.map((r) => r.authorization)).toEqual([fx.status.authorization]);
    expect(status).toEqual(withSeconds(fx.status.expect, fx.zone_minutes));
  });

  it(`counts the documented 401 as an HTTP failure (${fx.unauthorized.doc})`, async () => {
    const dev = await replayHttp({ [`GET ${fx.unauthorized.path}`]: [fx.unauthorized.answer] });
    const read = readMarking(
      { url: dev.url, username: 'admin', password: 'wrong', timeoutMs: 2000 },
      AbortSignal.timeout(10_000),
    );
    await expect(read).rejects.toMatchObject({ reason: 'http' });
    expect(dev.seen.map((r) => r.authorization)).toEqual([fx.unauthorized.authorization]);
  });
});
