export { backtest, matches, median, DEFAULT_MATCH_WINDOW_MS } from './backtest.js';
export type {
  AlertReport,
  BacktestOptions,
  BacktestProgress,
  BacktestReport,
  IncidentResult,
  ReportEpisode,
} from './backtest.js';
export { loadRules, inlineRecords, recordsRead, expandRulePaths, RuleFileError } from './rules.js';
export type { AlertRule, LoadRulesOptions, RecordRule } from './rules.js';
export {
  queryRange,
  instantQuery,
  labelValues,
  historyPlaces,
  engineFlags,
  seriesExist,
  PrometheusError,
  PrometheusTimeoutError,
  MAX_POINTS,
  DEFAULT_TIMEOUT_MS,
  rangeChunks,
} from './prometheus.js';
export type { RangeOptions, RequestOptions } from './prometheus.js';
export { simulateSeries, isFlapping } from './simulate.js';
export type { Episode } from './simulate.js';
export {
  BRIDGE_PAGE,
  PLACE_LEVELS,
  fetchIncidents,
  fetchTickets,
  incidentClasses,
  samePlace,
  ticketToIncident,
  BridgeError,
} from './incidents.js';
export type { Incident, Place, PlaceLevel, PlaceValues, TicketFetch, TicketJson } from './incidents.js';
export { inhibitedEpisodes, isInhibited, loadInhibitConfig, matchesAll, parseMatcher } from './inhibit.js';
export type { InhibitConfig, InhibitRule, Matcher } from './inhibit.js';
export { formatReport, compareReports, formatCompare, renderTable, renderCsv, LEAD_NOTE } from './format.js';
export type { Format, CompareRow } from './format.js';
export { parseDuration, parseTime, formatDuration } from './duration.js';
