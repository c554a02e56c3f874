import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, PARSE_OPTIONS, loadYamlFile, problemsOf } from '@tillwatch/config';
import { z } from 'zod';

const localized = z.strictObject({
  title: z.string().min(1),
  impact: z.string().min(1),
  first_line: z.array(z.string()).default([]),
  field: z.array(z.string()).default([]),
  parts: z.array(z.string()).default([]),
});

export const cardSchema = z.strictObject({
  incident_class: z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)*$/, 'must look like fiscal.paper_out'),
  team: z.string().min(1),
  priority: z.enum(['P1', 'P2', 'P3', 'P4']),
  expected_minutes: z.number().int().positive(),
  ru: localized,
  en: localized,
});

export type Card = z.infer<typeof cardSchema>;
export type Locale = 'ru' | 'en';

/** The card as the API and notifications show it: one locale, plus the shared fields. */
export interface Recommendation {
  incident_class: string;
  locale: Locale;
  title: string;
  impact: string;
  first_line: string[];
  field: string[];
  parts: string[];
  expected_minutes: number;
  team: string;
  priority: string;
}

export class KnowledgeBase {
  constructor(private readonly cards: Map<string, Card>) {}

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
    for (const f of files) {
      const path = join(dir, f);
      const doc = loadYamlFile(path);
      const list = Array.isArray(doc) ? doc : [doc];
      list.forEach((raw, i) => {
        const r = cardSchema.safeParse(raw, PARSE_OPTIONS);
        if (!r.success)
          throw new ConfigError(path, problemsOf(r.error.issues, Array.isArray(doc) ? [i] : []));
        if (cards.has(r.data.incident_class)) {
          throw new ConfigError(path, {
            key: Array.isArray(doc) ? `[${i}].incident_class` : 'incident_class',
            message: `${r.data.incident_class} is defined twice`,
          });
        }
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

  recommend(incidentClass: string, locale: Locale): Recommendation | null {
    const c = this.cards.get(incidentClass);
    if (!c) return null;
    const l = c[locale];
    return {
      incident_class: c.incident_class,
      locale,
      title: l.title,
      impact: l.impact,
      first_line: l.first_line,
      field: l.field,
      parts: l.parts,
      expected_minutes: c.expected_minutes,
      team: c.team,
      priority: c.priority,
    };
  }
}
