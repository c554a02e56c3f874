import { DisplayProcessor, Field, getDisplayProcessor, GrafanaTheme2 } from '@grafana/data';
import { stateOfColour } from './palette';
import { State, StateCode } from './states';

/** What a health value says about its place: a state, and the value mapping's text when one matched. */
export interface ValueVerdict {
  state: StateCode;
  /** The value mapping's text ("Нет связи с устройством"), shown as the tile's reason. */
  text?: string;
}

/**
 * Turns a health field's values into states through Grafana's standard field config, exactly as Grafana
 * colours any other panel: value mappings first, then thresholds (the field's display processor). The
 * colour picked there names the state (see `stateOfColour`). A missing or non-numeric value is unknown
 * whatever the config says: a place without data must never look healthy.
 *
 * Health queries return a handful of distinct values (0, 1, NaN), so verdicts are memoised per value and the
 * display processor runs a few times per refresh, not once per row.
 */
export function valueResolver(field: Field | undefined, theme: GrafanaTheme2): (value: number) => ValueVerdict {
  const unknown: ValueVerdict = { state: State.unknown };
  if (!field) {
    return () => unknown;
  }
  const display: DisplayProcessor = field.display ?? getDisplayProcessor({ field, theme });
  const mappings = field.config.mappings ?? [];
  // The same field without mappings tells a mapped text from the plain formatted value.
  const plain =
    mappings.length > 0
      ? getDisplayProcessor({ field: { ...field, config: { ...field.config, mappings: [] } }, theme })
      : undefined;
  const cache = new Map<number, ValueVerdict>();
  return (value) => {
    if (Number.isNaN(value)) {
      return unknown;
    }
    let verdict = cache.get(value);
    if (verdict === undefined) {
      const shown = display(value);
      const text = plain && shown.text !== plain(value).text ? shown.text : undefined;
      verdict = { state: shown.color ? stateOfColour(shown.color, theme) : State.unknown, text };
      cache.set(value, verdict);
    }
    return verdict;
  };
}

/**
 * The text a value mapping gives a label value (e.g. `incident_class` "fiscal.paper_out" → "Нет бумаги"), or
 * undefined when no mapping matches. Used for the alerts' reasons.
 */
export function mappedText(field: Field | undefined, theme: GrafanaTheme2): (value: string) => string | undefined {
  if (!field || !field.config.mappings || field.config.mappings.length === 0) {
    return () => undefined;
  }
  const display = field.display ?? getDisplayProcessor({ field, theme });
  const cache = new Map<string, string | undefined>();
  return (value) => {
    if (!cache.has(value)) {
      const text = display(value).text;
      cache.set(value, text !== '' && text !== value ? text : undefined);
    }
    return cache.get(value);
  };
}
