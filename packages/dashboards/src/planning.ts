import type { Json, Panel } from './builder.js';
import { F, dashboard, hierarchyVariables, merge, table, tableColumns, timeseries } from './builder.js';

const DAY = 86400;
const WEEK = 7 * DAY;
const WEEKS = 13;
// Replacement/renewal is due this long before expiry: the FN's own 30-day warning and the 30-day
// certificate alert of rules/integrations.yml (`tillwatch forecast --fn-window/--cert-window` defaults).
const WINDOW = 30 * DAY;

/** Seconds from now until the replacement of each series is due. */
const dueIn = (metric: string) => `(${metric}{${F}} - ${WINDOW} - time())`;

/** Count per region, 0 (not empty) for regions with none, so the table shows every region. */
const perRegion = (metric: string, cond: string) =>
  `count by (region) (${dueIn(metric)} ${cond}) or on (region) (0 * count by (region) (${metric}{${F}}))`;

/** One instant query per column: overdue, then week 1..13 from now; counted per region. */
function weekColumns(metric: string): { targets: Array<{ expr: string }>; rename: Record<string, string> } {
  const targets = [{ expr: perRegion(metric, '< 0') }];
  for (let k = 0; k < WEEKS; k++)
    targets.push({ expr: perRegion(metric, `>= ${k * WEEK} < ${(k + 1) * WEEK}`) });
  const rename: Record<string, string> = { 'Value #A': 'overdue' };
  for (let k = 0; k < WEEKS; k++) rename[`Value #${String.fromCharCode(66 + k)}`] = `week ${k + 1}`;
  return { targets, rename };
}

function dueTable(title: string, description: string, metric: string): Panel {
  const { targets, rename } = weekColumns(metric);
  return table({
    title,
    description,
    h: 9,
    targets,
    transformations: [merge, tableColumns(['region', ...Object.keys(rename)], rename)],
    noValue: '0',
  });
}

// Failures over the last 30 days per incident class and registrar model: a till counts once per class
// (an FN that warned at 30, 7 and 3 days is one incident). Engineer hours need the cards' expected time,
// which is not in Prometheus: `tillwatch forecast` prints them.
const FIRED_30D = `max by (till, incident_class) (max_over_time(ALERTS{alertstate="firing", ${F}}[30d]))`;
const MODEL = `max by (till, model) (till_fiscal_info{${F}})`;

// Planning view of the fleet: what field engineers and spare parts are needed in the coming weeks.
export function planningDashboard(): Json {
  return dashboard({
    uid: 'tillwatch-planning',
    title: 'TillWatch / Planning',
    description:
      'FN replacements and UTM certificate renewals due per week and region for the next 13 weeks, and failure rates per incident class and registrar model. CSV for planners: tillwatch forecast --format csv.',
    time: 'now-30d',
    refresh: '1h',
    variables: hierarchyVariables(),
    panels: [
      dueTable(
        'FN replacements due per week and region',
        'Due = FN expiry minus 30 days (the drive warns 30 days ahead). Week 1 starts now.',
        'till_fiscal_fn_expiry_timestamp_seconds',
      ),
      dueTable(
        'UTM certificate renewals due per week and region',
        'Due = certificate expiry minus 30 days; RSA and GOST certificates count separately.',
        'till_utm_certificate_expiry_timestamp_seconds',
      ),
      timeseries({
        title: 'FN replacements due within 30 days, by region',
        targets: [
          {
            expr: perRegion('till_fiscal_fn_expiry_timestamp_seconds', `< ${WINDOW}`),
            legend: '{{region}}',
          },
        ],
      }),
      timeseries({
        title: 'Certificate renewals due within 30 days, by region',
        targets: [
          {
            expr: perRegion('till_utm_certificate_expiry_timestamp_seconds', `< ${WINDOW}`),
            legend: '{{region}}',
          },
        ],
      }),
      table({
        title:
          'Incidents in the last 30 days per class and registrar model (expected next month at the same rate)',
        targets: [
          { expr: `count by (incident_class, model) (${FIRED_30D} * on (till) group_left (model) ${MODEL})` },
          {
            expr: `count by (incident_class, model) (${FIRED_30D} * on (till) group_left (model) ${MODEL}) / on (model) group_left () count by (model) (${MODEL})`,
          },
        ],
        transformations: [
          merge,
          tableColumns(['incident_class', 'model', 'Value #A', 'Value #B'], {
            'Value #A': 'incidents (30 d)',
            'Value #B': 'per till per month',
          }),
          { id: 'sortBy', options: { sort: [{ field: 'incidents (30 d)', desc: true }] } },
        ],
      }),
      timeseries({
        title: 'Tills with a firing alert, by incident class',
        targets: [
          {
            expr: `count by (incident_class) (max by (till, incident_class) (ALERTS{alertstate="firing", ${F}}))`,
            legend: '{{incident_class}}',
          },
        ],
      }),
    ],
  });
}
