// Real incidents to score alerts against, from the alert bridge's ticket API (or a known ground truth).

export interface Incident {
  id: string;
  till: string;
  store?: string;
  incidentClass: string;
  /** When the ticket was opened (ms). */
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

interface TicketJson {
  id: string | number;
  incident_class: string;
  till: string | null;
  store: string | null;
  tills?: string[] | null;
  opened_at: string;
  resolved_at: string | null;
  alerts?: { labels?: Record<string, string>; starts_at: string | null }[];
}

export function ticketToIncidents(t: TicketJson): Incident[] {
  const start = Date.parse(t.opened_at);
  const end = t.resolved_at ? Date.parse(t.resolved_at) : undefined;
  const tills = t.till ? [t.till] : (t.tills ?? []);
  return tills.map((till) => {
    const critical = (t.alerts ?? [])
      .filter(
        (a) => a.labels?.severity === 'critical' && a.starts_at && (!a.labels.till || a.labels.till === till),
      )
      .map((a) => Date.parse(a.starts_at!))
      .filter((n) => !Number.isNaN(n));
    return {
      id: String(t.id),
      till,
      ...(t.store ? { store: t.store } : {}),
      incidentClass: t.incident_class,
      start,
      ...(end !== undefined ? { end } : {}),
      ...(critical.length ? { criticalAt: Math.min(...critical) } : {}),
    };
  });
}

export class BridgeError extends Error {}

/** Tickets opened or still open in [fromMs, toMs]. The list API has no time filter, so it is applied here. */
export async function fetchIncidents(
  bridgeUrl: string,
  token: string | undefined,
  fromMs: number,
  toMs: number,
): Promise<Incident[]> {
  const url = `${bridgeUrl.replace(/\/$/, '')}/api/v1/tickets?limit=1000`;
  let res: Response;
  try {
    res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (err) {
    throw new BridgeError(`${bridgeUrl}: cannot connect: ${(err as Error).message}`);
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    throw new BridgeError(`${url}: HTTP ${res.status}: ${body.error?.message ?? res.statusText}`);
  }
  const json = (await res.json()) as { tickets?: TicketJson[] };
  if (!Array.isArray(json.tickets)) throw new BridgeError(`${url}: answer has no "tickets" list`);
  return json.tickets
    .flatMap(ticketToIncidents)
    .filter((i) => i.start <= toMs && (i.end === undefined || i.end >= fromMs));
}
