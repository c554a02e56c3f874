import { DataFrame } from '@grafana/data';
import { buildModel, BuildOptions, HierarchyModel } from './hierarchy';
import { parseHealthRules } from './states';
import { DEFAULT_HEALTH_RULES, DEFAULT_LEVELS } from '../types';

/** Builds a model with the panel's default options; tests override what they exercise. */
export function model(frames: DataFrame[], over: Partial<BuildOptions> = {}): HierarchyModel {
  return buildModel(frames, {
    levels: DEFAULT_LEVELS.split(','),
    rules: parseHealthRules(DEFAULT_HEALTH_RULES),
    alertsRefId: 'ALERTS',
    summaryLabel: 'summary',
    now: 1_000_000,
    ...over,
  });
}

export const till = (store: string, t: string, device: string, region = 'north', chain = 'acme') => ({
  chain,
  region,
  store,
  till: t,
  device,
});
