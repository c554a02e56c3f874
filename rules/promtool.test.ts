// Runs the real promtool (Prometheus 2.42) over the rule files and the unit tests in rules/tests/, and
// checks that the unit tests cover every rule the way the mixin convention asks.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { parseDuration } from '@tillwatch/config';
import { describe, expect, it } from 'vitest';
import { alerts, loadTestFile, records, ruleFiles, testFiles, TESTS_DIR } from './lib/rule-files.js';

const run = promisify(execFile);

async function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: TESTS_DIR, maxBuffer: 16 << 20 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** Milliseconds of a Prometheus duration such as 1d2h30m10s (an eval_time or a step). */
function ms(d: string): number {
  const v = parseDuration(d);
  if (v === undefined) throw new Error(`not a Prometheus duration: ${JSON.stringify(d)}`);
  return v;
}

describe('promtool', () => {
  it('accepts every rule file', async () => {
    const r = await promtool('check', 'rules', ...ruleFiles());
    expect(r.out).not.toMatch(/FAILED/);
    expect(r.code, r.out).toBe(0);
  });

  describe.concurrent('unit tests', () => {
    for (const file of testFiles()) {
      // The longest files replay days of samples (store-hours: three nights, 48 s alone on an idle core),
      // and they run side by side here: the bound is promtool's work, not vitest's 60 s default.
      it(`passes ${basename(file)}`, { timeout: 300_000 }, async () => {
        const r = await promtool('test', 'rules', file);
        expect(r.code, r.out).toBe(0);
        expect(r.out).toContain('SUCCESS');
      });
    }
  });

  it('fails a unit test whose expectation is wrong, so a green run means something', async () => {
    // The paper-out alert must not fire one step earlier than its `for`; claiming it does must fail.
    const src = readFileSync(join(TESTS_DIR, 'fiscal.test.yml'), 'utf8')
      .replaceAll('../', `${join(TESTS_DIR, '..')}/`)
      .replace(
        /- eval_time: 70s\n(\s+)alertname: TillFiscalPaperOut/,
        '- eval_time: 60s\n$1alertname: TillFiscalPaperOut',
      );
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-rules-'));
    const file = join(dir, 'broken.test.yml');
    writeFileSync(file, src);
    const r = await promtool('test', 'rules', file);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/alertname: TillFiscalPaperOut, time: 1m/);
  });
});

describe('unit test coverage', () => {
  const tests = testFiles().flatMap((f) =>
    loadTestFile(f).tests.map((t) => ({
      ...t,
      file: basename(f),
      step: loadTestFile(f).evaluation_interval ?? '1m',
    })),
  );
  const alertChecks = tests.flatMap((t) => (t.alert_rule_test ?? []).map((c) => ({ ...c, test: t })));

  it.each(alerts().map((a) => [a.alert, a] as const))(
    '%s fires at its `for` and not one step before',
    (name, rule) => {
      const fired = alertChecks.filter((c) => c.alertname === name && (c.exp_alerts?.length ?? 0) > 0);
      expect(fired.length, `${name}: no test expects it to fire`).toBeGreaterThan(0);
      const silent = alertChecks.filter((c) => c.alertname === name && (c.exp_alerts?.length ?? 0) === 0);
      expect(silent.length, `${name}: no test expects it to stay silent`).toBeGreaterThan(0);
      // Some test asserts silence exactly one evaluation step before a firing expectation of the same group.
      const boundary = fired.some((f) =>
        silent.some((s) => s.test === f.test && ms(f.eval_time) - ms(s.eval_time) === ms(f.test.step)),
      );
      expect(boundary, `${name}: no silent check one step before a firing one`).toBe(true);
      expect(rule.for, `${name}: no for`).toBeTruthy();
    },
  );

  it('has no test for an alert that does not exist', () => {
    const names = new Set(alerts().map((a) => a.alert));
    for (const c of alertChecks) expect(names.has(c.alertname), c.alertname).toBe(true);
  });

  it.each(records().map((r) => [r.record] as const))('recording rule %s has a promql_expr_test', (name) => {
    const exprs = tests.flatMap((t) => (t.promql_expr_test ?? []).map((e) => e.expr.trim()));
    expect(exprs).toContain(name);
  });

  // Each predictive alert and the critical state it predicts: a test group must show the warning firing
  // while the critical alert is still silent, and the critical one firing later in the same group.
  const predictions: [string, string][] = [
    ['TillFiscalShiftNearing24h', 'TillFiscalShiftExpired'],
    ['TillFiscalFnResourceRunningOut', 'TillFiscalFnResourceExhausted'],
    ['TillFiscalOfdBacklogForecast', 'TillFiscalOfdBacklogCritical'],
    ['TillFiscalFnExpiresIn30Days', 'TillFiscalFnExpiresIn7Days'],
    ['TillDiskSpaceFillingUp', 'TillDiskSpaceLow'],
    ['TillDiskSpaceFillingUpSlowly', 'TillDiskSpaceLow'],
    ['TillHostClockOffset', 'TillHostClockOffsetCritical'],
  ];
  it.each(predictions)('%s is shown firing before %s', (warning, critical) => {
    const ok = tests.some((t) => {
      const checks = t.alert_rule_test ?? [];
      const warnAt = checks.filter((c) => c.alertname === warning && (c.exp_alerts?.length ?? 0) > 0);
      return warnAt.some((w) => {
        const quietThen = checks.some(
          (c) => c.alertname === critical && c.eval_time === w.eval_time && (c.exp_alerts?.length ?? 0) === 0,
        );
        const firesLater = checks.some(
          (c) =>
            c.alertname === critical && ms(c.eval_time) > ms(w.eval_time) && (c.exp_alerts?.length ?? 0) > 0,
        );
        return quietThen && firesLater;
      });
    });
    expect(ok).toBe(true);
  });

  it('marks every predict_linear or deriv alert as predictive above', () => {
    const predictive = alerts()
      .filter((a) => /predict_linear|deriv\(/.test(a.expr))
      .map((a) => a.alert);
    const listed = new Set(predictions.map((p) => p[0]));
    for (const a of predictive) expect(listed.has(a), a).toBe(true);
  });
});
