import {
  DataLink,
  FieldConfigSource,
  MappingType,
  PanelMigrationHandler,
  Threshold,
  ThresholdsMode,
  ValueMapping,
} from '@grafana/data';
import { HierarchyOptions, LegacyOptions } from './types';

/** What Grafana hands a panel migration: the saved options and field config (mutable), among others. */
export type MigratingPanel = Parameters<PanelMigrationHandler<HierarchyOptions & LegacyOptions>>[0];

/** The colour each state of version 1's health rules becomes in standard thresholds and value mappings. */
const STATE_COLOUR: Record<string, string> = {
  ok: 'green',
  info: 'blue',
  warning: 'orange',
  unknown: 'purple',
  critical: 'red',
};

/**
 * Version 1's `healthRules` text ("0=critical, base:critical, 1:ok") as standard field config: `<value>=<state>`
 * items become value mappings, `<threshold>:<state>` steps become thresholds. Throws naming the bad item.
 */
export function healthRulesToFieldConfig(text: string): { thresholds?: Threshold[]; mappings: ValueMapping[] } {
  const steps: Threshold[] = [];
  const values: Record<string, { color: string; index: number }> = {};
  let index = 0;
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') {
      continue;
    }
    const m = /^([^=:]+?)\s*([=:])\s*([a-z]+)$/.exec(item);
    const colour = m ? STATE_COLOUR[m[3]!] : undefined;
    if (!m || !colour) {
      throw new Error(`health rules: "${item}" is not "<value>=<state>" or "<threshold>:<state>" with a known state`);
    }
    const key = m[1]!.trim();
    const value = key === 'base' || key === '-Inf' ? -Infinity : Number(key);
    if (Number.isNaN(value)) {
      throw new Error(`health rules: "${item}": "${key}" is not a number`);
    }
    if (m[2] === '=') {
      values[String(value)] = { color: colour, index: index++ };
    } else {
      steps.push({ value, color: colour });
    }
  }
  steps.sort((a, b) => a.value - b.value);
  return {
    thresholds: steps.length > 0 ? steps : undefined,
    mappings: Object.keys(values).length > 0 ? [{ type: MappingType.ValueToText, options: values }] : [],
  };
}

/** Version 1's link templates used `${label}` like data links do; only the form of the setting changes. */
function legacyLinks(old: LegacyOptions): DataLink[] {
  const links: DataLink[] = [];
  const add = (title: string, url: string | undefined) => url && links.push({ title, url, targetBlank: true });
  add('Till dashboard', old.tillDashboardUrl);
  add('Ticket', old.ticketUrl);
  add('Runbook', old.runbookUrl);
  return links;
}

/**
 * Moves a version 1 panel to standard field config (thresholds, value mappings, data links), so a saved
 * dashboard keeps its colours and links. The field config is updated in place, as Grafana's own panel
 * migrations do; the options without the legacy keys are returned.
 */
export function migrateOptions(panel: MigratingPanel): Partial<HierarchyOptions> {
  const { healthRules, tillDashboardUrl, ticketUrl, runbookUrl, ...options } = panel.options ?? {};
  const fieldConfig: FieldConfigSource = panel.fieldConfig ?? { defaults: {}, overrides: [] };
  const defaults = fieldConfig.defaults;
  if (healthRules !== undefined) {
    try {
      const converted = healthRulesToFieldConfig(healthRules);
      if (converted.thresholds) {
        defaults.thresholds = { mode: ThresholdsMode.Absolute, steps: converted.thresholds };
      }
      defaults.mappings = [...(defaults.mappings ?? []), ...converted.mappings];
    } catch {
      // A rule text version 1 would have rejected too: the panel's default thresholds apply instead.
    }
  }
  const links = legacyLinks({ tillDashboardUrl, ticketUrl, runbookUrl });
  if (links.length > 0) {
    defaults.links = [...(defaults.links ?? []), ...links];
  }
  panel.fieldConfig = fieldConfig;
  return options;
}
