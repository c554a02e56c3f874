// What a rule costs at fleet scale: the series its selectors read, per till, every evaluation. On
// VictoriaMetrics 1.79 an instant query costs 6-15 µs per series it reads whatever the operator
// (docs/benchmarks.md, "Where the time goes"), so this count, times the fleet, is the group's time.
// Counted against the measured exposition of one fully configured till (@tillwatch/testkit's
// till-full.prom): a selector reads the capture's series of its metric that its label matchers accept.
// Per-till records (`till:*`) and the exporter's `up` read one series per till; store, region and fleet
// records, ALERTS and the store agents' own `up` scale with stores or firing alerts, not tills, and count 0.
// The PromQL is walked with @prometheus-io/lezer-promql (as promql-names.ts), never a regex.
import { parser } from '@prometheus-io/lezer-promql';
import { backtesting } from '@tillwatch/ops';
import { tillCapture } from '@tillwatch/testkit';

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  name: string;
  matchers: Matcher[];
}

/** Every vector selector of `expr` (those inside range selectors included), in order. */
export function selectors(expr: string): Selector[] {
  const out: Selector[] = [];
  const tree = parser.parse(expr);
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) throw new Error(`cannot parse PromQL at offset ${cursor.from}: ${expr}`);
    if (cursor.name !== 'VectorSelector') continue;
    const node = cursor.node;
    const ident = node.getChild('Identifier');
    const sel: Selector = { name: ident ? expr.slice(ident.from, ident.to) : '', matchers: [] };
    const list = node.getChild('LabelMatchers');
    for (let m = list?.firstChild; m; m = m.nextSibling) {
      const label = m.getChild('LabelName') ?? m.getChild('QuotedLabelName');
      const op = m.getChild('MatchOp');
      const value = m.getChild('StringLiteral');
      if (!label || !op || !value) continue;
      sel.matchers.push({
        label: expr.slice(label.from, label.to).replace(/^"|"$/g, ''),
        op: expr.slice(op.from, op.to) as Matcher['op'],
        value: stringLiteral(expr.slice(value.from, value.to)),
      });
    }
    const byName = sel.matchers.find((m) => m.label === '__name__' && m.op === '=');
    if (byName) sel.name = byName.value;
    if (!sel.name) throw new Error(`selector without a metric name: ${expr.slice(cursor.from, cursor.to)}`);
    out.push(sel);
  } while (cursor.next());
  return out;
}

/** A PromQL string literal's text: "double" and 'single' quoted with Go escapes, `raw` without. */
function stringLiteral(raw: string): string {
  const body = raw.slice(1, -1);
  if (raw.startsWith('`')) return body;
  return JSON.parse(
    `"${raw.startsWith("'") ? body.replace(/\\'/g, "'").replace(/"/g, '\\"') : body}"`,
  ) as string;
}

/** Series per till one group may read per evaluation (rules-contract.test.ts says why 11). */
export const READ_BUDGET_PER_TILL = 11;

/** Alertmanager's and Prometheus' label matchers agree (anchored regular expressions): the backtest's evaluator. */
function accepts(m: Matcher, value: string | undefined): boolean {
  return backtesting.matchesAll([{ name: m.label, op: m.op, value: m.value }], { [m.label]: value ?? '' });
}

/** Series one till contributes to what `sel` reads. */
export function seriesPerTill(sel: Selector): number {
  if (sel.name.startsWith('till:')) return 1;
  if (sel.name === 'up')
    return sel.matchers.every((m) => m.label !== 'job' || accepts(m, 'tillwatch-exporter')) ? 1 : 0;
  if (!sel.name.startsWith('till_')) return 0;
  // Matchers on the labels the agent adds (chain, region, store, till, instance, job) narrow stores, not a
  // till's series: they are not in the capture and are taken as matching.
  const own = sel.matchers.filter((m) => m.label !== '__name__' && !PLACE_LABELS.has(m.label));
  return tillCapture().filter((s) => s.name === sel.name && own.every((m) => accepts(m, s.labels[m.label])))
    .length;
}

const PLACE_LABELS = new Set(['chain', 'region', 'store', 'till', 'instance', 'job']);

/** Series one till contributes to one evaluation of `expr`. */
export function readsPerTill(expr: string): number {
  return selectors(expr).reduce((a, s) => a + seriesPerTill(s), 0);
}
