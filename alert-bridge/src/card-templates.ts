import { Liquid, type Template } from 'liquidjs';
import type { Card } from './knowledge-base.js';

/**
 * What a card's texts may use: the alert that heads the ticket (its labels, annotations and value), every
 * firing alert of the ticket, the place, and the facts of the snapshot (metric name → value).
 */
export interface CardContext {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** The alert's value, from its `value` annotation (`{{ $value }}` in the rule), when it is a number. */
  value?: number | null;
  alerts?: { alertname: string; labels: Record<string, string> }[];
  place?: Record<string, string | null>;
  facts?: Record<string, number>;
}

const ONE_DAY = 86_400;

/**
 * Card texts are Liquid templates (liquidjs): a small language made to render untrusted data with
 * templates written by others, with no code execution. Here it only sees plain data (own properties
 * only, so `constructor` or `__proto__` in a label reach nothing), strict filters (a misspelt filter
 * fails at start), and bounded work per render. Two filters for people: `days` (seconds, signed or not,
 * as whole days) and `plural` ("{{ n | plural: 'день', 'дня', 'дней' }}", by the language's rules).
 */
export class CardTemplates {
  private readonly liquid = new Liquid({
    ownPropertyOnly: true,
    strictFilters: true,
    strictVariables: false,
    parseLimit: 20_000,
    renderLimit: 100,
    memoryLimit: 1e6,
    cache: false,
  });
  private readonly parsed = new Map<string, Template[]>();

  constructor() {
    this.liquid.registerFilter('days', (v: unknown) => {
      const n = Number(v);
      return Number.isFinite(n) ? Math.floor(Math.abs(n) / ONE_DAY) : '';
    });
    const ru = new Intl.PluralRules('ru');
    this.liquid.registerFilter('plural', (v: unknown, one: string, few: string, many?: string) => {
      const n = Math.abs(Math.trunc(Number(v)));
      if (many === undefined) return n === 1 ? one : few;
      const form = ru.select(n);
      return form === 'one' ? one : form === 'few' ? few : many;
    });
  }

  private compile(src: string): Template[] {
    let t = this.parsed.get(src);
    if (!t) {
      t = this.liquid.parse(src);
      if (this.parsed.size > 5_000) this.parsed.clear();
      this.parsed.set(src, t);
    }
    return t;
  }

  /** Renders one text; one that cannot render shows its plain words, never an error to a person. */
  render(src: string, ctx: CardContext): string {
    if (!src.includes('{')) return src;
    try {
      return this.liquid.renderSync(this.compile(src), ctx as Record<string, unknown>).trim();
    } catch {
      return src
        .replace(/\{%[\s\S]*?%\}|\{\{[\s\S]*?\}\}/g, '')
        .replace(/\s+/g, ' ')
        .trim();
    }
  }

  /** Every template of a card that does not compile or render on a sample alert, with its key. */
  problems(card: Card): { key: string; message: string }[] {
    const out: { key: string; message: string }[] = [];
    const sample: CardContext = {
      labels: { alertname: 'Sample', store: 's', till: 't' },
      annotations: { summary: 's', value: '1' },
      value: 1,
      alerts: [{ alertname: 'Sample', labels: {} }],
      place: { store: 's', till: 't' },
      facts: {},
    };
    const check = (key: string, src: string | undefined) => {
      if (src === undefined || !src.includes('{')) return;
      try {
        this.liquid.renderSync(this.liquid.parse(src), sample as Record<string, unknown>);
      } catch (e) {
        out.push({ key, message: `template: ${(e as Error).message.split('\n')[0]}` });
      }
    };
    const texts = (prefix: string, l: Partial<Card['ru']> | undefined) => {
      if (!l) return;
      for (const k of ['title', 'short', 'summary', 'impact'] as const) check(`${prefix}.${k}`, l[k]);
      for (const k of ['first_line', 'field', 'parts'] as const)
        l[k]?.forEach((s, i) => check(`${prefix}.${k}[${i}]`, s));
    };
    texts('ru', card.ru);
    texts('en', card.en);
    card.variants.forEach((v, i) => {
      texts(`variants[${i}].ru`, v.ru);
      texts(`variants[${i}].en`, v.en);
    });
    return out;
  }
}
