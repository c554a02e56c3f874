import { FieldColorModeId, FieldConfigProperty, SetFieldConfigOptionsArgs, ThresholdsMode } from '@grafana/data';

/**
 * Standard field config, so the wall is configured as every other Grafana panel: thresholds and value
 * mappings turn a health value into a state (their colour names it), value mappings on the alerts'
 * incident_class or alertname give the reason shown on a tile, data links fill a tile's links, and
 * "No value" is the reason of a tile without data.
 */
export const fieldConfig: SetFieldConfigOptionsArgs = {
  standardOptions: {
    [FieldConfigProperty.Thresholds]: {
      defaultValue: {
        mode: ThresholdsMode.Absolute,
        // Below 1 a device does not answer; how bad that is, the alert rules say once they fire.
        steps: [
          { value: -Infinity, color: 'orange' },
          { value: 1, color: 'green' },
        ],
      },
    },
    [FieldConfigProperty.Color]: {
      defaultValue: { mode: FieldColorModeId.Thresholds },
      settings: { byValueSupport: true, bySeriesSupport: false },
    },
  },
  disableStandardOptions: [
    FieldConfigProperty.Min,
    FieldConfigProperty.Max,
    FieldConfigProperty.FieldMinMax,
    FieldConfigProperty.Decimals,
    FieldConfigProperty.DisplayName,
    FieldConfigProperty.Filterable,
    FieldConfigProperty.Actions,
  ],
};
