import { sees, type Principal } from '../auth/principal.js';
import {
  NotFoundError,
  type ListFilter,
  type PlaceQuery,
  type TicketDetail,
  type TicketJson,
  type TicketService,
} from '../tickets/index.js';

/**
 * Tickets as one person may see them: a chain-scoped person gets only their chains' tickets in
 * lists, and "does not exist" for any other (404, not 403, so ticket ids of other clients are not
 * confirmed either).
 */
export async function visibleTicket(tickets: TicketService, p: Principal, id: number): Promise<TicketDetail> {
  const t = await tickets.get(id);
  if (!sees(p, t)) throw new NotFoundError(`ticket ${id} does not exist`);
  return t;
}

export async function visibleList(
  tickets: TicketService,
  p: Principal,
  filter: ListFilter,
): Promise<TicketJson[]> {
  if (p.chains === null) return tickets.list(filter);
  if (filter.chain !== undefined) return p.chains.includes(filter.chain) ? tickets.list(filter) : [];
  // One query per chain keeps the store's filter (and its limit) exact; people have a few chains.
  const limit = filter.limit ?? 100;
  const per = await Promise.all(p.chains.map((chain) => tickets.list({ ...filter, chain, limit })));
  return per
    .flat()
    .sort((a, b) => b.id - a.id)
    .slice(0, limit);
}

export async function visibleForPlace(
  tickets: TicketService,
  p: Principal,
  q: PlaceQuery,
): Promise<TicketJson[]> {
  if (p.chains !== null && q.chain !== undefined && !p.chains.includes(q.chain)) return [];
  return (await tickets.forPlace(q)).filter((t) => sees(p, t));
}
