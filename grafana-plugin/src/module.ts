import { PanelPlugin } from '@grafana/data';
import { defaultOptions, HierarchyOptions } from './types';
import { HierarchyPanel } from './components/HierarchyPanel';

export const plugin = new PanelPlugin<HierarchyOptions>(HierarchyPanel).setPanelOptions((builder) =>
  builder
    .addTextInput({
      path: 'levels',
      name: 'Levels',
      description: 'Label names from the outermost group to the leaf, comma-separated',
      defaultValue: defaultOptions.levels,
      category: ['Hierarchy'],
    })
    .addTextInput({
      path: 'healthRules',
      name: 'Health rules',
      description:
        'How a leaf value becomes a state: "<value>=<state>" mappings, then "<threshold>:<state>" steps ("base" = minus infinity). States: ok, info, warning, unknown, critical',
      defaultValue: defaultOptions.healthRules,
      category: ['Health'],
    })
    .addTextInput({
      path: 'alertsRefId',
      name: 'Alerts query',
      description: 'refId of the ALERTS{alertstate="firing"} query (series with an alertstate label are always alerts)',
      defaultValue: defaultOptions.alertsRefId,
      category: ['Health'],
    })
    .addTextInput({
      path: 'summaryLabel',
      name: 'Alert summary label',
      description: 'Label shown as the alert summary when present; otherwise the alert name',
      defaultValue: defaultOptions.summaryLabel,
      category: ['Health'],
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
    .addTextInput({
      path: 'tillDashboardUrl',
      name: 'Till dashboard link',
      description:
        '${label} is replaced by the URL-encoded label value, ${label:raw} as is; dashboard variables work too',
      defaultValue: defaultOptions.tillDashboardUrl,
      category: ['Links'],
    })
    .addTextInput({
      path: 'ticketUrl',
      name: 'Alert bridge ticket link',
      defaultValue: defaultOptions.ticketUrl,
      category: ['Links'],
    })
    .addTextInput({
      path: 'runbookUrl',
      name: 'Runbook link',
      defaultValue: defaultOptions.runbookUrl,
      category: ['Links'],
    })
);
