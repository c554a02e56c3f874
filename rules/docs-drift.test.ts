// The docs that restate the alert rules agree with them (issue 15: the paper-out runbook said 10 s, the rule
// 5 s). Generated parts are compared with a fresh generation; hand-written parts are read for the `for` and
// severity they name. The last block proves each check fails on a copy of the rules with a changed `for`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  forPhrases,
  formatFor,
  generateDocs,
  mentionDrift,
  proseDrift,
  readDoc,
  reasonDrift,
  RUNBOOKS,
  runbookForDrift,
  staleDocs,
  THRESHOLDS,
} from './lib/alert-docs.js';
import { alerts, REPO_DIR, ruleFiles } from './lib/rule-files.js';

const read = (path: string) => readDoc(REPO_DIR, path);

describe('generated docs', () => {
  it('match the rules (otherwise run npm run docs:generate)', () => {
    expect(staleDocs()).toEqual([]);
  });

  it('put each alert under its runbook heading with its real `for`, severity and card', () => {
    const runbooks = generateDocs().find((d) => d.path === RUNBOOKS)!.expected;
    const section = runbooks.split('### TillFiscalPaperOut\n')[1]!.split('\n### ')[0]!;
    expect(section).toMatch(/^\n<!-- BEGIN GENERATED from rules\/fiscal\.yml by `npm run docs:generate`/);
    expect(section).toContain(
      '| critical | 5 s | `till_fiscal_paper_present == 0` | global interval | ' +
        '[`fiscal.paper_out`](../alert-bridge/knowledge-base/fiscal.paper_out.yml) | hardware |',
    );
  });

  it('list every alert once in the thresholds table, a `|` of PromQL escaped so the row holds', () => {
    const table = generateDocs().find((d) => d.path === THRESHOLDS)!.expected;
    for (const a of alerts())
      expect(table.split(`| \`${a.alert}\` | ${a.labels?.severity} |`)).toHaveLength(2);
    expect(table).toContain(
      '`sum without (reason) (rate(till_fiscal_errors_total{reason=~"timeout\\|nak\\|lrc',
    );
  });
});

describe('hand-written docs', () => {
  it('say the real `for` in every runbook "Meaning"', () => {
    expect(runbookForDrift(read(RUNBOOKS), alerts())).toEqual([]);
  });

  it('give every alert one reason in rules/thresholds.md, naming its real `for` if any', () => {
    expect(reasonDrift(read(THRESHOLDS), alerts())).toEqual([]);
  });

  it('name an alert with its real `for` and severity wherever they name one', () => {
    expect(mentionDrift(alerts())).toEqual([]);
  });

  it('read durations the way people write them, and no other words', () => {
    const ms = (t: string) => forPhrases(t).map((f) => f.ms);
    expect(ms('for 5 s, for 10 seconds, for over a minute, for 2m, for an hour, `for: 1h30m`')).toEqual([
      5_000, 10_000, 60_000, 120_000, 3_600_000, 5_400_000,
    ]);
    expect(ms('for a store and card, as for good, for 7–30 days, for under a minute')).toEqual([]);
    expect(formatFor('5s')).toBe('5 s');
    expect(formatFor('1h30m')).toBe('1 h 30 m');
  });
});

describe('the drift checks fail when a rule changes and the docs do not', () => {
  let dir: string;

  /** A copy of the rule files with `edit` applied to the one holding `alert`. */
  function editedRules(alert: string, edit: (text: string) => string): string {
    const out = mkdtempSync(join(dir, 'rules-'));
    for (const f of ruleFiles()) {
      const text = readFileSync(f, 'utf8');
      const changed = text.includes(`alert: ${alert}\n`) ? edit(text) : text;
      if (text.includes(`alert: ${alert}\n`))
        expect(changed, `the edit of ${alert} changed nothing`).not.toBe(text);
      writeFileSync(join(out, basename(f)), changed);
    }
    return out;
  }
  /** Replaces `key: from` with `key: to` in the rule of `alert` only. */
  const setIn = (alert: string, key: string, from: string, to: string) => (text: string) =>
    text.replace(
      new RegExp(`(alert: ${alert}\\n(?:(?!\\s+- alert:)[\\s\\S])*?${key}: )${from}\\n`),
      `$1${to}\n`,
    );

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-docs-drift-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('paper out back at `for: 10s`: both generated docs, the runbook and the simulator table', () => {
    const rules = editedRules('TillFiscalPaperOut', setIn('TillFiscalPaperOut', 'for', '5s', '10s'));
    expect(staleDocs(rules)).toEqual([
      'rules/thresholds.md: the generated blocks are out of date: run npm run docs:generate',
      'docs/runbooks.md: the generated blocks are out of date: run npm run docs:generate',
    ]);
    const prose = proseDrift(rules);
    expect(prose).toContain(
      'docs/runbooks.md TillFiscalPaperOut: the Meaning says "for 5 s", the rule\'s `for` is 10s',
    );
    expect(prose.filter((p) => p.startsWith('simulator/README.md:'))).toEqual([
      expect.stringMatching(/^simulator\/README\.md:\d+ TillFiscalPaperOut \(5 s, critical\): .* is 10s$/),
    ]);
    // Nothing else is blamed: only the paper-out statements name that `for`.
    expect(prose.every((p) => p.includes('TillFiscalPaperOut'))).toBe(true);
  });

  it('a `for` named in a reason, in rules/README.md and in docs/scaling.md', () => {
    const warning = editedRules('TillFiscalFnWarning', setIn('TillFiscalFnWarning', 'for', '5m', '10m'));
    expect(proseDrift(warning)).toContain(
      'rules/thresholds.md TillFiscalFnWarning: the reason says "for 5 m", the rule\'s `for` is 10m',
    );
    const utm = editedRules('TillUtmDown', setIn('TillUtmDown', 'for', '2m', '3m'));
    expect(proseDrift(utm)).toContainEqual(
      expect.stringMatching(/^rules\/README\.md:\d+ TillUtmDown … "for 2 m": the rule's `for` is 3m$/),
    );
    const silent = editedRules('TillStoreSilent', setIn('TillStoreSilent', 'for', '30s', '1m'));
    expect(proseDrift(silent)).toContainEqual(
      expect.stringMatching(/^docs\/scaling\.md:\d+ TillStoreSilent … "for 30 s": the rule's `for` is 1m$/),
    );
  });

  it('a severity named beside the alert', () => {
    const rules = editedRules(
      'TillFiscalCoverOpen',
      setIn('TillFiscalCoverOpen', 'severity', 'critical', 'warning'),
    );
    expect(proseDrift(rules)).toContainEqual(
      expect.stringMatching(
        /^simulator\/README\.md:\d+ TillFiscalCoverOpen \(1 m, critical\): .* is warning$/,
      ),
    );
  });

  it('a new alert without a runbook section or a reason', () => {
    const rules = editedRules('TillProcessDown', (t) =>
      t.replace('      - alert: TillProcessDown\n', '      - alert: TillProcessGone\n'),
    );
    expect(() => generateDocs(rules)).toThrow(
      'docs/runbooks.md has no section for ### TillProcessGone (rules/software.yml): add the heading and its text',
    );
    expect(reasonDrift(read(THRESHOLDS), alerts(rules))).toEqual([
      'rules/thresholds.md TillProcessGone: 0 rows in "Why these values", want 1',
      'rules/thresholds.md TillProcessDown: a reason for an alert no rule defines',
    ]);
  });
});
