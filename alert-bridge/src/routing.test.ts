import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';
import { identify } from './identity.js';
import { targetId, parseTarget } from './delivery/target.js';
import { routeTeam } from './routing.js';
import { createFanout } from './tickets/fanout.js';

const config = parseConfig({
  webhook: { bearer_token: 'x' },
  routing: {
    default_team: 'first-line',
    routes: [
      { match: { region: 'r77' }, match_re: { incident_class: 'fiscal\\..*' }, team: 'fiscal-moscow' },
      { match: { chain: 'big' }, team: 'big-chain-desk' },
    ],
  },
  telegram: { bot_token: 't' },
  teams: { 'fiscal-moscow': { telegram: [{ chat_id: 1 }, { chat_id: '@fm' }] } },
});

describe('routing', () => {
  const cases: [string, Record<string, string>, string][] = [
    [
      'a fiscal alert in region r77 goes to the regional fiscal team',
      { region: 'r77', incident_class: 'fiscal.fn_expiry', team: 'hardware' },
      'fiscal-moscow',
    ],
    [
      'a network alert in r77 skips that route and falls to its own team label',
      { region: 'r77', incident_class: 'network.down', team: 'network' },
      'network',
    ],
    [
      'a chain with its own desk gets it whatever the label says',
      { chain: 'big', team: 'hardware' },
      'big-chain-desk',
    ],
    ['no route and no label falls back to the default team', { incident_class: 'x.y' }, 'first-line'],
  ];
  it.each(cases)('%s', (_n, labels, team) => {
    expect(routeTeam(labels, config.routing, undefined)).toBe(team);
  });

  it('uses the card team when neither routes nor labels name one', () => {
    expect(routeTeam({}, config.routing, { team: 'hardware' } as never)).toBe('hardware');
  });

  it('lists each team channel as an outbox target', () => {
    const fanout = createFanout(config);
    expect(fanout.channels('fiscal-moscow').map(targetId)).toEqual(['telegram:1', 'telegram:@fm']);
    expect(fanout.channels('nobody')).toEqual([]);
    // A team label that names an Object.prototype member is just an unknown team.
    for (const t of ['constructor', 'toString', '__proto__']) {
      expect(fanout.channels(t)).toEqual([]);
      expect(fanout.targetsFor(t, 'ticket.created')).toEqual([]);
    }
  });

  it('formats and parses every kind of delivery target the same way', () => {
    for (const id of [
      'telegram:-100123',
      'telegram:@fm',
      'email:a@x.ru,b@x.ru',
      'webhook:desk',
      'redmine:rm',
    ])
      expect(targetId(parseTarget(id))).toBe(id);
    expect(() => parseTarget('fax:123')).toThrow(/unknown delivery target kind "fax"/);
    expect(() => parseTarget('telegram:')).toThrow(/not a delivery target/);
  });
});

describe('ticket key', () => {
  const t = parseConfig({
    webhook: { bearer_token: 'x' },
    tickets: { store_scope_classes: ['network.store_offline'] },
  }).tickets;
  it('is the class plus place labels in a fixed order, ignoring instance, job and severity', () => {
    const a = identify(
      {
        incident_class: 'fiscal.paper_out',
        till: 't1',
        store: 's1',
        chain: 'c',
        instance: 'a:1',
        severity: 'warning',
        device: 'kkt',
      },
      t,
    );
    const b = identify(
      {
        device: 'kkt',
        chain: 'c',
        store: 's1',
        till: 't1',
        incident_class: 'fiscal.paper_out',
        instance: 'b:2',
        job: 'x',
        severity: 'critical',
      },
      t,
    );
    expect(a.key).toBe('fiscal.paper_out|chain=c|store=s1|till=t1|device=kkt');
    expect(b.key).toBe(a.key);
  });
  it('keeps places apart even when a value holds the key separators', () => {
    const a = identify({ incident_class: 'x.y', store: 'a|till=b' }, t);
    const b = identify({ incident_class: 'x.y', store: 'a', till: 'b' }, t);
    expect(a.key).not.toBe(b.key);
    expect(identify({ incident_class: 'x|y', store: 's' }, t).key).not.toBe(
      identify({ incident_class: 'x', store: 'y|store=s' }, t).key,
    );
    expect(identify({ incident_class: 'x.y', store: '50%' }, t).key).toBe('x.y|store=50%25');
  });

  it('drops till and device for store-scoped classes', () => {
    expect(identify({ incident_class: 'network.store_offline', store: 's1', till: 't2' }, t).key).toBe(
      'network.store_offline|store=s1',
    );
  });
  it('derives a class from the alert name when the rule has none', () => {
    expect(identify({ alertname: 'TillExporterDown', store: 's1', till: 't1' }, t).incidentClass).toBe(
      'unclassified.till_exporter_down',
    );
  });
});
