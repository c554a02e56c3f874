/** Panel options, as stored in the dashboard JSON (see README "Panel options"). */
export interface HierarchyOptions {
  /** Comma-separated label names, outermost first. */
  levels: string;
  /** Health value rules: `<value>=<state>` mappings and `<threshold>:<state>` steps, comma-separated. */
  healthRules: string;
  /** refId of the ALERTS query; frames whose series carry an `alertstate` label are alerts whatever their refId. */
  alertsRefId: string;
  /** Label whose value is drawn as the alert's summary when the frame carries one (ALERTS itself has no annotations). */
  summaryLabel: string;
  onlyProblemsDefault: boolean;
  showSearch: boolean;
  showLegend: boolean;
  /** Smallest cell side in CSS pixels before a group is drawn as one cell coloured by its worst child. */
  minCellSize: number;
  tillDashboardUrl: string;
  ticketUrl: string;
  runbookUrl: string;
}

export const DEFAULT_LEVELS = 'chain,region,store,till,device';
export const DEFAULT_HEALTH_RULES = 'base:critical, 1:ok';

export const defaultOptions: HierarchyOptions = {
  levels: DEFAULT_LEVELS,
  healthRules: DEFAULT_HEALTH_RULES,
  alertsRefId: 'ALERTS',
  summaryLabel: 'summary',
  onlyProblemsDefault: false,
  showSearch: true,
  showLegend: true,
  minCellSize: 4,
  tillDashboardUrl: '/d/tillwatch-till?var-chain=${chain}&var-store=${store}&var-till=${till}',
  ticketUrl: 'http://127.0.0.1:9836/tickets?alertname=${alertname}&store=${store}&till=${till}',
  runbookUrl: '${runbook_url:raw}',
};
