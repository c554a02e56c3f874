import { keyFacts, type SnapshotLike } from '../i18n/facts.js';
import { formatTime } from '../i18n/time.js';
import type { Locale } from '../knowledge-base.js';
import { e } from './layout.js';

/** A short table of the class's facts, or undefined when the snapshot has none of them. */
export function factsTable(
  incidentClass: string,
  snapshot: unknown,
  zone: string,
  locale: Locale,
  now: number,
): { rows: string; taken?: string } | undefined {
  const facts = keyFacts(incidentClass, snapshot, zone, locale, now);
  if (facts.length === 0) return undefined;
  const taken = (snapshot as SnapshotLike).taken_at;
  return {
    rows: facts
      .map(
        (f) =>
          `<dt>${e(f.label)}${f.where ? ` <span class="muted">(${e(f.where)})</span>` : ''}</dt><dd${f.bad ? ' class="bad"' : ''}>${e(f.text)}</dd>`,
      )
      .join(''),
    ...(taken ? { taken: formatTime(taken, zone, locale, { now }) } : {}),
  };
}
