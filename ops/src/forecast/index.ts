export { forecast, bucketDue, incidentsFromAlerts, loadExpectedMinutes, weekStart } from './forecast.js';
export type { DueRow, FailureRow, Forecast, ForecastOptions } from './forecast.js';
export { formatForecast } from './format.js';
export type { Section } from './format.js';
