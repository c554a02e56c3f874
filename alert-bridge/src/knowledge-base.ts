import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, PARSE_OPTIONS, loadYamlFile, problemsOf, type ConfigProblem } from '@tillwatch/config';
import { z } from 'zod';
import { CardTemplates, type CardContext } from './card-templates.js';

const PRIORITY = z.enum(['P1', 'P2', 'P3', 'P4']);
const CLASS_RE = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;

/** Every text is a template (card-templates.ts): plain text, or `{{ ... }}` and `{% if %}` over the alert. */
const localized = z.strictObject({
  title: z.string().min(1),
  /** A few words for the wall and chat lists ("Нет бумаги"). */
  short: z.string().min(1).optional(),
  /** One sentence that replaces the rule's (English) summary wherever this language is shown. */
  summary: z.string().min(1).optional(),
  impact: z.string().min(1),
  first_line: z.array(z.string()).default([]),
  field: z.array(z.string()).default([]),
  parts: z.array(z.string()).default([]),
});

/** What a variant replaces of the card's texts (no defaults: what it leaves out stays the card's). */
const override = z.strictObject({
  title: z.string().min(1).optional(),
  short: z.string().min(1).optional(),
  summary: z.string().min(1).optional(),
  impact: z.string().min(1).optional(),
  first_line: z.array(z.string()).optional(),
  field: z.array(z.string()).optional(),
  parts: z.array(z.string()).optional(),
});

/** A label matcher: the exact value, or `/regex/` matched against the whole value. */
const matcher = z.string().refine(
  (m) => {
    if (!(m.startsWith('/') && m.endsWith('/') && m.length >= 2)) return true;
    try {
      new RegExp(m.slice(1, -1));
      return true;
    } catch {
      return false;
    }
  },
  { error: 'a regular expression between slashes that does not compile' },
);

const variant = z.strictObject({
  /** Labels of the alert (alertname included) that select this variant; all must match. */
  when: z.record(z.string(), matcher),
  priority: PRIORITY.optional(),
  team: z.string().min(1).optional(),
  expected_minutes: z.number().int().positive().optional(),
  ru: override.optional(),
  en: override.optional(),
});

export const cardSchema = z.strictObject({
  incident_class: z.string().regex(CLASS_RE, 'must look like fiscal.paper_out'),
  /**
   * Classes of one family on the same place make one ticket (its priority the worst of them): the ФН's
   * warning and its expiry, the registrar and its paper and cover.
   */
  family: z.string().regex(CLASS_RE, 'must look like fiscal.fn').optional(),
  /**
   * The class can have one cause shared by many places (the OFD, EGAIS or a POS update down for
   * everyone): when it opens on many stores of a chain at once it is a mass incident. Classes of one
   * till's own hardware (paper, a cover) are not: many of them at once in a big chain is an ordinary day.
   */
  shared_cause: z.boolean().default(false),
  team: z.string().min(1),
  priority: PRIORITY,
  expected_minutes: z.number().int().positive(),
  ru: localized,
  en: localized,
  /** The first variant whose `when` holds overrides the card for that alert. */
  variants: z.array(variant).default([]),
});

export type Card = z.infer<typeof cardSchema>;
export type Variant = z.infer<typeof variant>;
export type Locale = 'ru' | 'en';

/** The card as the API and notifications show it: one locale, rendered with the facts, plus shared fields. */
export interface Recommendation {
  incident_class: string;
  family: string;
  locale: Locale;
  title: string;
  short: string;
  summary: string | null;
  impact: string;
  first_line: string[];
  field: string[];
  parts: string[];
  expected_minutes: number;
  team: string;
  priority: string;
}

function matches(m: string, v: string | undefined): boolean {
  if (m.startsWith('/') && m.endsWith('/') && m.length >= 2)
    return new RegExp(`^(?:${m.slice(1, -1)})$`).test(v ?? '');
  return v === m;
}

export class KnowledgeBase {
  private readonly templates: CardTemplates;

  constructor(private readonly cards: Map<string, Card>) {
    this.templates = new CardTemplates();
  }

  static empty(): KnowledgeBase {
    return new KnowledgeBase(new Map());
  }

  /** Loads every *.yml/*.yaml of the folder; a file may hold one card or a list of cards. */
  static load(dir: string): KnowledgeBase {
    let files: string[];
    try {
      files = readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort();
    } catch (e) {
      throw new ConfigError(dir, {
        message: `cannot read the knowledge base folder: ${(e as Error).message}`,
      });
    }
    const cards = new Map<string, Card>();
    const check = new CardTemplates();
    for (const f of files) {
      const path = join(dir, f);
      const doc = loadYamlFile(path);
      const list = Array.isArray(doc) ? doc : [doc];
      list.forEach((raw, i) => {
        const prefix = Array.isArray(doc) ? [i] : [];
        const r = cardSchema.safeParse(raw, PARSE_OPTIONS);
        if (!r.success) throw new ConfigError(path, problemsOf(r.error.issues, prefix));
        const at = (key: string) => (Array.isArray(doc) ? `[${i}].${key}` : key);
        if (cards.has(r.data.incident_class)) {
          throw new ConfigError(path, {
            key: at('incident_class'),
            message: `${r.data.incident_class} is defined twice`,
          });
        }
        // A template that does not compile, or uses a filter that does not exist, fails at start.
        const bad: ConfigProblem[] = check
          .problems(r.data)
          .map((p) => ({ key: at(p.key), message: p.message }));
        if (bad.length) throw new ConfigError(path, bad);
        cards.set(r.data.incident_class, r.data);
      });
    }
    return new KnowledgeBase(cards);
  }

  get size(): number {
    return this.cards.size;
  }

  get(incidentClass: string): Card | undefined {
    return this.cards.get(incidentClass);
  }

  classes(): string[] {
    return [...this.cards.keys()];
  }

  /** The family a class belongs to: its card's `family`, else the class itself. */
  familyOf(incidentClass: string): string {
    return this.cards.get(incidentClass)?.family ?? incidentClass;
  }

  /** Whether the class's card says many places at once share one cause (a mass incident). */
  sharedCause(incidentClass: string): boolean {
    return this.cards.get(incidentClass)?.shared_cause ?? false;
  }

  /** The variant of the class's card that an alert with these labels selects, if any. */
  variantFor(incidentClass: string, labels: Record<string, string>): Variant | undefined {
    const c = this.cards.get(incidentClass);
    const label = (k: string) => (Object.hasOwn(labels, k) ? labels[k] : undefined);
    return c?.variants.find((v) => Object.entries(v.when).every(([k, m]) => matches(m, label(k))));
  }

  /** The card's priority for one alert: its variant's, else the card's. */
  priorityFor(incidentClass: string, labels: Record<string, string>): Card['priority'] | undefined {
    return this.variantFor(incidentClass, labels)?.priority ?? this.cards.get(incidentClass)?.priority;
  }

  /** One alert's title in one language (its variant's, rendered with its facts), or null without a card. */
  titleFor(incidentClass: string, locale: Locale, ctx: CardContext = {}): string | null {
    const c = this.cards.get(incidentClass);
    if (!c) return null;
    const v = ctx.labels ? this.variantFor(incidentClass, ctx.labels) : undefined;
    return this.templates.render(v?.[locale]?.title ?? c[locale].title, ctx);
  }

  /** The card for one alert, in one language, its texts rendered with the alert's facts. */
  recommend(incidentClass: string, locale: Locale, ctx: CardContext = {}): Recommendation | null {
    const c = this.cards.get(incidentClass);
    if (!c) return null;
    const v = ctx.labels ? this.variantFor(incidentClass, ctx.labels) : undefined;
    const l = { ...c[locale], ...(v?.[locale] ?? {}) };
    const r = (s: string) => this.templates.render(s, ctx);
    const title = r(l.title);
    return {
      incident_class: c.incident_class,
      family: c.family ?? c.incident_class,
      locale,
      title,
      short: l.short ? r(l.short) : title,
      summary: l.summary ? r(l.summary) : null,
      impact: r(l.impact),
      first_line: l.first_line.map(r),
      field: l.field.map(r),
      parts: l.parts.map(r),
      expected_minutes: v?.expected_minutes ?? c.expected_minutes,
      team: v?.team ?? c.team,
      priority: v?.priority ?? c.priority,
    };
  }
}
