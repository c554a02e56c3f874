import { createTheme, DataFrame, FieldConfigSource, PanelPlugin } from '@grafana/data';
import { buildModel, BuildOptions, HierarchyModel } from './hierarchy';
import { DEFAULT_LEVELS } from '../types';
import { fieldConfig as pluginFieldConfig } from '../field-config';
import { applyFieldConfig, templateReplacer, withDefaults } from '../standalone/grafana-host';

export const theme = createTheme();

/** The panel's field config setup without its component: data tests need no React. */
const plugin = new PanelPlugin(() => null).useFieldConfig(pluginFieldConfig);

export interface ModelOptions extends Partial<BuildOptions> {
  /** The panel's field config, as saved in a dashboard; the plugin's defaults fill the rest. */
  fieldConfig?: Partial<FieldConfigSource>;
}

/** The frames as the panel receives them in Grafana: field config defaults and overrides applied. */
export function panelFrames(frames: DataFrame[], fieldConfig: Partial<FieldConfigSource> = {}): DataFrame[] {
  const saved = { defaults: {}, overrides: [], ...fieldConfig };
  const withPluginDefaults = withDefaults(plugin, {}, saved).fieldConfig;
  return applyFieldConfig(plugin, frames, withPluginDefaults, theme, templateReplacer({}));
}

/** Builds a model with the panel's default options and field config; tests override what they exercise. */
export function model(frames: DataFrame[], over: ModelOptions = {}): HierarchyModel {
  const { fieldConfig, ...opts } = over;
  return buildModel(panelFrames(frames, fieldConfig), {
    levels: DEFAULT_LEVELS.split(','),
    alertsRefId: 'ALERTS',
    inventoryRefId: 'INVENTORY',
    summaryLabel: 'summary',
    theme,
    now: 1_000_000,
    ...opts,
  });
}

export const till = (store: string, t: string, device: string, region = 'north', chain = 'acme') => ({
  chain,
  region,
  store,
  till: t,
  device,
});
