// Real incidents to score alerts against and to count failures from: the alert bridge's tickets (or a
// known ground truth). An incident sits at the place its ticket names (a store, a till, a device), so a
// store-wide outage is one incident of the store, not one per till.
import { formatDuration } from '@tillwatch/config';
import { fetchFailure } from '../fetch-failure.js';

/** The levels of the place hierarchy, outermost first: the labels the bridge keys a ticket by. */
export const PLACE_LEVELS = ['chain', 'region', 'store', 'till', 'device'] as const;
export type PlaceLevel = (typeof PLACE_LEVELS)[number];
export type Place = Partial<Record<PlaceLevel, string>>;

export interface Incident extends Place {
  id: string;
  incidentClass: string;
  /**
   * Every incident class on the ticket: its own and those of its alerts (a ticket of a problem family
   * joins related classes of one place). Defaults to `[incidentClass]`.
   */
  classes?: string[];
  /** A store-wide ticket's tills (the bridge's `tills`): an alert of one of them belongs to it. */
  tills?: string[];
  /** When the problem started (ms): the ticket's opening, or its first alert's start if earlier. */
  start: number;
  /** When it was resolved, or undefined while still open. */
  end?: number;
  /**
   * When the problem became critical (ms): the earliest `starts_at` of a critical alert on the ticket.
   * Undefined when the ticket never had a critical alert: such an incident counts for recall but has no
   * lead time.
   */
  criticalAt?: number;
}

/** The part of the bridge's ticket JSON (alert-bridge/README.md) that the backtest and forecast read. */
export interface TicketJson {
  id: string | number;
  status?: string;
  incident_class: string;
  chain?: string | null;
  region?: string | null;
  store?: string | null;
  till?: string | null;
  device?: string | null;
  tills?: string[] | null;
  opened_at: string;
  resolved_at: string | null;
  closed_at?: string | null;
  alerts?: {
    alertname?: string;
    labels?: Record<string, string>;
    starts_at: string | null;
    ends_at?: string | null;
  }[];
}

const time = (s: string | null | undefined): number | undefined => {
  const t = s ? Date.parse(s) : NaN;
  return Number.isNaN(t) ? undefined : t;
};

export function ticketToIncident(t: TicketJson): Incident {
  const alerts = t.alerts ?? [];
  const opened = time(t.opened_at) ?? NaN;
  const starts = alerts.map((a) => time(a.starts_at)).filter((n): n is number => n !== undefined);
  const end = time(t.resolved_at) ?? time(t.closed_at);
  const critical = alerts
    .filter((a) => a.labels?.severity === 'critical')
    .map((a) => time(a.starts_at))
    .filter((n): n is number => n !== undefined);
  const classes = [
    ...new Set([t.incident_class, ...alerts.map((a) => a.labels?.incident_class ?? t.incident_class)]),
  ];
  const place: Place = {};
  for (const k of PLACE_LEVELS) {
    const v = t[k];
    if (v) place[k] = v;
  }
  return {
    id: String(t.id),
    ...place,
    incidentClass: t.incident_class,
    ...(classes.length > 1 ? { classes } : {}),
    ...(!t.till && t.tills?.length ? { tills: [...t.tills] } : {}),
    start: Math.min(opened, ...starts),
    ...(end !== undefined && t.status !== 'open' && t.status !== 'acknowledged' ? { end } : {}),
    ...(critical.length ? { criticalAt: Math.min(...critical) } : {}),
  };
}

/**
 * Whether an alert with these labels is about the incident's place: every place level both name is the
 * same, and an alert of one till belongs to a store-wide ticket only when the ticket lists that till.
 */
export function samePlace(labels: Record<string, string>, i: Incident): boolean {
  for (const k of PLACE_LEVELS) if (labels[k] && i[k] && labels[k] !== i[k]) return false;
  if (!i.till && i.tills?.length && labels.till && !i.tills.includes(labels.till)) return false;
  return true;
}

export const incidentClasses = (i: Incident): string[] => i.classes ?? [i.incidentClass];

export class BridgeError extends Error {}

/** The bridge answers at most this many tickets per request, newest first, and has no paging. */
export const BRIDGE_PAGE = 1000;

type Filter = Partial<Record<'status' | 'region' | 'store' | 'till', string>>;

/** Values to split a full page by: the places the history knows within the filter. */
export type PlaceValues = (level: 'region' | 'store' | 'till', within: Filter) => Promise<string[]>;

export interface TicketFetch {
  tickets: TicketJson[];
  requests: number;
  /** Problems that make the list possibly incomplete, one line each. */
  warnings: string[];
}

export interface FetchTicketsOptions {
  fromMs: number;
  toMs: number;
  /** Places to split by when one filter holds more tickets in the range than a page; see fetchTickets. */
  places?: PlaceValues;
  /** Per request to the bridge, headers and body (default BRIDGE_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** The bridge's list API may answer slowly, never not at all: a hung bridge fails the run naming it. */
const BRIDGE_TIMEOUT_MS = 120_000;

async function ticketPage(
  bridgeUrl: string,
  token: string | undefined,
  filter: Filter,
  timeoutMs = BRIDGE_TIMEOUT_MS,
): Promise<TicketJson[]> {
  const query = new URLSearchParams({ ...filter, limit: String(BRIDGE_PAGE) });
  const url = `${bridgeUrl.replace(/\/$/, '')}/api/v1/tickets?${query}`;
  const timedOut = (err: unknown) =>
    (err as { name?: string } | undefined)?.name === 'TimeoutError'
      ? new BridgeError(
          `--bridge ${bridgeUrl} did not answer within ${formatDuration(timeoutMs)} (--timeout): GET ${url}`,
        )
      : undefined;
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal });
  } catch (err) {
    throw timedOut(err) ?? new BridgeError(`--bridge ${bridgeUrl}: cannot connect: ${fetchFailure(err)}`);
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    throw new BridgeError(`${url}: HTTP ${res.status}: ${body.error?.message ?? res.statusText}`);
  }
  const json = (await res.json().catch((err: unknown) => {
    throw timedOut(err) ?? err;
  })) as { tickets?: TicketJson[] };
  if (!Array.isArray(json.tickets)) throw new BridgeError(`${url}: answer has no "tickets" list`);
  return json.tickets;
}

const SPLITS = ['status', 'region', 'store', 'till'] as const;
const STATUSES = ['open', 'acknowledged', 'resolved', 'closed'];

/**
 * Every ticket opened before `toMs` and not resolved before `fromMs`. The list API answers at most 1,000
 * tickets, newest first, without a cursor: a full page whose oldest ticket opened before `fromMs` holds the
 * whole range; otherwise the filter is split by status, then region, store and till (the values the
 * history names, plus those on the page) until each part fits. Tickets are joined by id, so each counts
 * once. A part that still overflows, or a split that may miss a place, is named in `warnings`.
 */
export async function fetchTickets(
  bridgeUrl: string,
  token: string | undefined,
  o: FetchTicketsOptions,
): Promise<TicketFetch> {
  const byId = new Map<string, TicketJson>();
  const warnings: string[] = [];
  let requests = 0;
  const describe = (f: Filter) =>
    Object.entries(f)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || 'all tickets';
  const walk = async (filter: Filter, depth: number): Promise<void> => {
    requests++;
    const page = await ticketPage(bridgeUrl, token, filter, o.timeoutMs);
    for (const t of page) byId.set(String(t.id), t);
    if (page.length < BRIDGE_PAGE) return;
    const oldest = Math.min(...page.map((t) => Date.parse(t.opened_at)));
    if (oldest < o.fromMs) return;
    const split = SPLITS[depth];
    if (split === undefined) {
      warnings.push(
        `the bridge has more than ${BRIDGE_PAGE} tickets for ${describe(filter)} since ${new Date(o.fromMs).toISOString()} and no paging: only the newest ${BRIDGE_PAGE} were read`,
      );
      return;
    }
    let values: string[];
    if (split === 'status') values = STATUSES;
    else {
      const known = o.places ? await o.places(split, filter) : [];
      values = [...new Set([...known, ...page.map((t) => t[split]).filter((v): v is string => !!v)])].sort();
      if (!o.places)
        warnings.push(
          `${describe(filter)}: more than ${BRIDGE_PAGE} tickets in the range; split by the ${split}s seen on the newest page only`,
        );
      if (split === 'till')
        // A store-wide ticket has no till, so no till filter finds it.
        warnings.push(
          `${describe(filter)}: more than ${BRIDGE_PAGE} tickets in the range; store-wide tickets beyond the newest ${BRIDGE_PAGE} cannot be listed`,
        );
    }
    for (const v of values) await walk({ ...filter, [split]: v }, depth + 1);
  };
  await walk({}, 0);
  const tickets = [...byId.values()].filter((t) => {
    const opened = Date.parse(t.opened_at);
    const resolved = t.resolved_at ? Date.parse(t.resolved_at) : undefined;
    return opened <= o.toMs && (resolved === undefined || resolved >= o.fromMs);
  });
  return { tickets, requests, warnings };
}

/** Incidents from the bridge's tickets in [fromMs, toMs] (see fetchTickets). */
export async function fetchIncidents(
  bridgeUrl: string,
  token: string | undefined,
  o: FetchTicketsOptions,
): Promise<{ incidents: Incident[]; warnings: string[]; requests: number }> {
  const r = await fetchTickets(bridgeUrl, token, o);
  return { incidents: r.tickets.map(ticketToIncident), warnings: r.warnings, requests: r.requests };
}
