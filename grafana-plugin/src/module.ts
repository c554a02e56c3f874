import { PanelPlugin } from '@grafana/data';
import { fieldConfig } from './field-config';
import { defaultOptions, HierarchyOptions, LegacyOptions } from './types';
import { HierarchyPanel } from './components/HierarchyPanel';
import { MigratingPanel, migrateOptions } from './migration';

export const plugin = new PanelPlugin<HierarchyOptions>(HierarchyPanel)
  .setPanelOptions((builder) =>
    builder
      .addTextInput({
        path: 'levels',
        name: 'Levels',
        description: 'Label names from the outermost group to the leaf, comma-separated',
        defaultValue: defaultOptions.levels,
        category: ['Hierarchy'],
      })
      .addTextInput({
        path: 'inventoryRefId',
        name: 'Inventory query',
        description:
          'refId of the query that names every place (e.g. stores with their number of tills): they stay on the map, sized by the value, whatever their state',
        defaultValue: defaultOptions.inventoryRefId,
        category: ['Hierarchy'],
      })
      .addTextInput({
        path: 'alertsRefId',
        name: 'Alerts query',
        description:
          'refId of the ALERTS{alertstate="firing"} query (series with an alertstate label are always alerts)',
        defaultValue: defaultOptions.alertsRefId,
        category: ['Alerts'],
      })
      .addTextInput({
        path: 'summaryLabel',
        name: 'Alert summary label',
        description: 'Label shown as the alert summary in the tooltip when present; otherwise the alert name',
        defaultValue: defaultOptions.summaryLabel,
        category: ['Alerts'],
      })
      .addBooleanSwitch({
        path: 'onlyProblemsDefault',
        name: 'Only problems by default',
        defaultValue: defaultOptions.onlyProblemsDefault,
        category: ['Display'],
      })
      .addBooleanSwitch({
        path: 'showSearch',
        name: 'Search box',
        defaultValue: defaultOptions.showSearch,
        category: ['Display'],
      })
      .addBooleanSwitch({
        path: 'showLegend',
        name: 'Legend',
        defaultValue: defaultOptions.showLegend,
        category: ['Display'],
      })
      .addNumberInput({
        path: 'minCellSize',
        name: 'Smallest cell (px)',
        description: 'Groups whose items would be smaller are drawn as one cell in their worst state',
        defaultValue: defaultOptions.minCellSize,
        settings: { min: 1, max: 40, integer: true },
        category: ['Display'],
      })
  )
  .useFieldConfig(fieldConfig)
  .setMigrationHandler(
    (panel) => migrateOptions(panel as MigratingPanel),
    (panel) => {
      const options = (panel.options ?? {}) as LegacyOptions;
      return ['healthRules', 'tillDashboardUrl', 'ticketUrl', 'runbookUrl'].some((k) => k in options);
    }
  );
