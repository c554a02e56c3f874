export {
  forecast,
  bucketDue,
  incidentsFromAlerts,
  loadExpectedMinutes,
  weekStart,
  DEFAULT_HISTORY_MS,
  DEFAULT_REOPEN_WINDOW_MS,
  DEFAULT_RESOLUTION_MS,
  FAILURE_HORIZON_MS,
} from './forecast.js';
export type { DueRow, FailureRow, Forecast, ForecastOptions, HistoryCoverage } from './forecast.js';
export { formatForecast } from './format.js';
export type { Section } from './format.js';
