import { alertFrame, seriesFrame } from './frame-factory';
import { findNode } from './hierarchy';
import { tileLinks, tileScopedVars } from './links';
import { problemsOf } from './problems';
import { model } from './test-model';
import { templateReplacer } from '../standalone/grafana-host';

const links = [
  { title: 'Till dashboard', url: '/d/tillwatch-till/till?var-store=${store}&var-till=${till}' },
  {
    title: 'Ticket',
    url: '${bridge:raw}/ui/tickets?store=${store}&till=${till}&device=${device}&alertname=${alertname}',
    targetBlank: true,
  },
  { title: 'Runbook', url: '${runbook_url:raw}' },
];

describe('tile links (standard data links)', () => {
  const m = model(
    [
      seriesFrame({ chain: 'acme', region: 'north', store: 's 1', till: 't&1' }, 1),
      seriesFrame({ chain: 'acme', region: 'north', store: 's2', till: 't1' }, 1),
      alertFrame({
        chain: 'acme',
        region: 'north',
        store: 's 1',
        alertname: 'TillStoreUnreachable',
        severity: 'critical',
        till: '',
      }),
    ],
    { levels: ['chain', 'region', 'store', 'till'], fieldConfig: { defaults: { links } } }
  );
  const replace = templateReplacer({ bridge: 'http://127.0.0.1:9836' });

  it('fills the place and the worst alert, URI-encoded, and drops a link that comes out empty', () => {
    const t = findNode(m, ['acme', 'north', 's 1', 't&1'])!;
    const got = tileLinks(m.links, tileScopedVars(m, t, problemsOf(m, t)?.alert), replace);
    expect(got).toEqual([
      { title: 'Till dashboard', href: '/d/tillwatch-till/till?var-store=s%201&var-till=t&1', target: undefined },
      {
        title: 'Ticket',
        href: 'http://127.0.0.1:9836/ui/tickets?store=s%201&till=t&1&device=&alertname=TillStoreUnreachable',
        target: '_blank',
      },
    ]);
  });

  it('drops a link a label turns into script', () => {
    const t = findNode(m, ['acme', 'north', 's2', 't1'])!;
    const vars = { ...tileScopedVars(m, t, undefined), runbook_url: { text: '', value: 'javascript:alert(1)' } };
    expect(tileLinks(m.links, vars, replace).map((l) => l.title)).toEqual(['Till dashboard', 'Ticket']);
  });

  it('leaves the levels a tile does not reach empty, not taken from elsewhere', () => {
    const s2 = findNode(m, ['acme', 'north', 's2'])!;
    const got = tileLinks(m.links, tileScopedVars(m, s2, undefined), replace);
    expect(got.find((l) => l.title === 'Ticket')?.href).toBe(
      'http://127.0.0.1:9836/ui/tickets?store=s2&till=&device=&alertname='
    );
  });
});
