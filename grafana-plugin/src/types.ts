/** Panel options, as stored in the dashboard JSON (see README "Panel options"). */
export interface HierarchyOptions {
  /** Comma-separated label names, outermost first. */
  levels: string;
  /** refId of the ALERTS query; frames whose series carry an `alertstate` label are alerts whatever their refId. */
  alertsRefId: string;
  /** refId of the inventory query: every place it names stays on the map, sized by its value. */
  inventoryRefId: string;
  /** Label whose value is the alert's summary in the tooltip when the frame carries one (ALERTS itself has no annotations). */
  summaryLabel: string;
  onlyProblemsDefault: boolean;
  showSearch: boolean;
  showLegend: boolean;
  /** Smallest cell side in CSS pixels before a group is drawn as one cell coloured by its worst child. */
  minCellSize: number;
}

/** Options that panels saved by version 1 carry and the migration turns into standard field config. */
export interface LegacyOptions {
  healthRules?: string;
  tillDashboardUrl?: string;
  ticketUrl?: string;
  runbookUrl?: string;
}

export const DEFAULT_LEVELS = 'chain,region,store,till,device';

export const defaultOptions: HierarchyOptions = {
  levels: DEFAULT_LEVELS,
  alertsRefId: 'ALERTS',
  inventoryRefId: 'INVENTORY',
  summaryLabel: 'summary',
  onlyProblemsDefault: false,
  showSearch: true,
  showLegend: true,
  minCellSize: 4,
};
