/**
 * What Grafana itself does around a panel, for running the panel outside Grafana (the harness, Jest and the
 * bench). Grafana's core registers the standard field config options and owns the template service; neither
 * ships in an npm package, so this file stands in for them with @grafana/data's own building blocks
 * (override processors, getPanelOptionsWithDefaults, applyFieldOverrides). It is not part of the plugin.
 */
import {
  applyFieldOverrides,
  DataFrame,
  dataLinksOverrideProcessor,
  FieldConfigPropertyItem,
  FieldConfigSource,
  getPanelOptionsWithDefaults,
  GrafanaTheme2,
  identityOverrideProcessor,
  InterpolateFunction,
  PanelPlugin,
  ScopedVars,
  standardEditorsRegistry,
  standardFieldConfigEditorRegistry,
  stringOverrideProcessor,
  thresholdsOverrideProcessor,
  ThresholdsMode,
  valueMappingsOverrideProcessor,
} from '@grafana/data';

// The harness never opens an options editor: an editor that renders nothing.
const NoEditor = (): null => null;

function item(
  id: string,
  process: FieldConfigPropertyItem['process'],
  defaultValue?: unknown
): FieldConfigPropertyItem {
  return {
    id,
    path: id,
    name: id,
    process,
    defaultValue,
    shouldApply: () => true,
    editor: NoEditor,
    override: NoEditor,
  };
}

let registered = false;

/**
 * Registers the standard field config options the panel uses, with Grafana's defaults, and the editors its
 * panel options are built with, once (Grafana core does both at start).
 */
export function registerStandardFieldConfig(): void {
  if (registered) {
    return;
  }
  registered = true;
  standardEditorsRegistry.setInit(() =>
    ['text', 'number', 'boolean'].map((id) => ({ id, name: id, editor: NoEditor }))
  );
  standardFieldConfigEditorRegistry.setInit(() => [
    item('unit', stringOverrideProcessor),
    item('noValue', stringOverrideProcessor),
    item('thresholds', thresholdsOverrideProcessor, {
      mode: ThresholdsMode.Absolute,
      steps: [
        { value: -Infinity, color: 'green' },
        { value: 80, color: 'red' },
      ],
    }),
    item('mappings', valueMappingsOverrideProcessor, []),
    item('links', dataLinksOverrideProcessor),
    item('color', identityOverrideProcessor, { mode: 'thresholds' }),
  ]);
}

/** A panel's options and field config with the plugin's defaults filled in, as Grafana loads a saved panel. */
export function withDefaults<T extends object>(
  plugin: PanelPlugin<T>,
  options: Partial<T>,
  fieldConfig: FieldConfigSource
): { options: T; fieldConfig: FieldConfigSource } {
  registerStandardFieldConfig();
  const d = getPanelOptionsWithDefaults({
    plugin,
    currentOptions: options as Record<string, unknown>,
    currentFieldConfig: fieldConfig,
    isAfterPluginChange: false,
  });
  return { options: d.options as T, fieldConfig: d.fieldConfig };
}

/** The frames a panel receives: field config defaults and overrides applied, display processors set. */
export function applyFieldConfig(
  plugin: PanelPlugin,
  frames: DataFrame[],
  fieldConfig: FieldConfigSource,
  theme: GrafanaTheme2,
  replaceVariables: InterpolateFunction
): DataFrame[] {
  registerStandardFieldConfig();
  return applyFieldOverrides({
    data: frames,
    fieldConfig,
    fieldConfigRegistry: plugin.fieldConfigRegistry,
    replaceVariables,
    theme,
    timeZone: 'browser',
  });
}

const FORMATS: Record<string, (v: string) => string> = {
  raw: (v) => v,
  percentencode: encodeURIComponent,
  uriencode: encodeURI,
};

/**
 * Grafana's `replaceVariables` for `$name` and `${name[:format]}`: scoped variables first, then the
 * dashboard's; the formats raw, percentencode and uriencode. An unknown variable is left as written, as
 * Grafana does.
 */
export function templateReplacer(dashboardVars: Record<string, string>): InterpolateFunction {
  return (value: string, scopedVars?: ScopedVars, format?: string | Function) =>
    value.replace(/\$\{([A-Za-z_][\w.]*)(?::([a-z]+))?\}|\$([A-Za-z_]\w*)/g, (whole, braced, fmt, bare) => {
      const name: string = braced ?? bare;
      const scoped = scopedVars?.[name];
      const v = scoped !== undefined ? String(scoped.value ?? scoped.text) : dashboardVars[name];
      if (v === undefined) {
        return whole;
      }
      const f = fmt ?? (typeof format === 'string' ? format : undefined);
      return f && FORMATS[f] ? FORMATS[f](v) : v;
    });
}
