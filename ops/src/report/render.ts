// The monthly SLA report as the service company sends it: HTML for people (with a bar chart of the
// on-time shares) and CSV for spreadsheets. Both come from the bridge's JSON report.
import { z } from 'zod';

const share = z.number().nullable();
export const slaReportSchema = z.object({
  chain: z.string(),
  month: z.string(),
  timezone: z.string(),
  from: z.string(),
  to: z.string(),
  generated_at: z.string(),
  tickets: z.number(),
  by_class_priority: z.array(
    z.object({
      incident_class: z.string(),
      priority: z.string(),
      tickets: z.number(),
      self_resolved: z.number(),
    }),
  ),
  on_time: z.array(
    z.object({
      kind: z.enum(['registration', 'reaction', 'resolution']),
      met: z.number(),
      breached: z.number(),
      pending: z.number(),
      share,
    }),
  ),
  worst_stores: z.array(z.object({ store: z.string(), tickets: z.number(), breached: z.number() })),
  worst_devices: z.array(
    z.object({
      store: z.string(),
      till: z.string().nullable(),
      device: z.string().nullable(),
      tickets: z.number(),
    }),
  ),
  self_resolved: z.object({ resolved: z.number(), self: z.number(), share }),
  mtta_s: z.number().nullable(),
  mttr_s: z.number().nullable(),
});
export type SlaReport = z.infer<typeof slaReportSchema>;
export type Locale = 'ru' | 'en';

const TEXT = {
  ru: {
    title: (chain: string, month: string) => `Отчёт об уровне сервиса: ${chain}, ${month}`,
    period: 'Период',
    tickets: 'Заявок',
    onTime: 'Выполнено в срок',
    kind: { registration: 'регистрация', reaction: 'реакция', resolution: 'решение' },
    deadline: 'Срок',
    met: 'в срок',
    breached: 'нарушен',
    pending: 'ещё идёт',
    share: 'доля в срок',
    byClass: 'Заявки по классам и приоритетам',
    cls: 'Класс',
    priority: 'Приоритет',
    selfResolved: 'Устранилось само',
    worstStores: 'Магазины с наибольшим числом заявок и нарушений',
    store: 'Магазин',
    withBreach: 'с нарушением срока',
    worstDevices: 'Кассы и устройства с наибольшим числом заявок',
    till: 'Касса',
    device: 'Устройство',
    mtta: 'Среднее время реакции',
    mttr: 'Среднее время решения',
    none: '—',
    min: 'мин',
    generated: 'Сформирован',
  },
  en: {
    title: (chain: string, month: string) => `Service level report: ${chain}, ${month}`,
    period: 'Period',
    tickets: 'Tickets',
    onTime: 'On time',
    kind: { registration: 'registration', reaction: 'reaction', resolution: 'resolution' },
    deadline: 'Deadline',
    met: 'met',
    breached: 'breached',
    pending: 'still running',
    share: 'on-time share',
    byClass: 'Tickets by class and priority',
    cls: 'Class',
    priority: 'Priority',
    selfResolved: 'Self-resolved',
    worstStores: 'Stores with the most tickets and breaches',
    store: 'Store',
    withBreach: 'with a breach',
    worstDevices: 'Tills and devices with the most tickets',
    till: 'Till',
    device: 'Device',
    mtta: 'Mean time to acknowledge',
    mttr: 'Mean time to resolve',
    none: '—',
    min: 'min',
    generated: 'Generated',
  },
} as const;

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const pct = (x: number | null) => (x === null ? '—' : `${(Math.round(x * 1000) / 10).toFixed(1)} %`);
const minutes = (s: number | null, L: (typeof TEXT)[Locale]) =>
  s === null ? L.none : `${Math.round(s / 60)} ${L.min}`;

/** A standalone HTML page (inline style, no script): the figures, the tables and an SVG bar chart. */
export function reportHtml(r: SlaReport, locale: Locale): string {
  const L = TEXT[locale];
  const row = (cells: (string | number)[]) =>
    `<tr>${cells.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`;
  const head = (cells: string[]) => `<tr>${cells.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const bar = (i: number, o: SlaReport['on_time'][number]) => {
    const w = Math.round((o.share ?? 0) * 300);
    const y = 10 + i * 30;
    return (
      `<text x="0" y="${y + 15}">${esc(L.kind[o.kind])}</text>` +
      `<rect x="110" y="${y}" width="300" height="20" fill="#eee"/>` +
      `<rect x="110" y="${y}" width="${w}" height="20" fill="${(o.share ?? 0) >= 0.9 ? '#2e7d32' : '#c62828'}"/>` +
      `<text x="420" y="${y + 15}">${esc(pct(o.share))}</text>`
    );
  };
  return `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><title>${esc(L.title(r.chain, r.month))}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>
</head><body>
<h1>${esc(L.title(r.chain, r.month))}</h1>
<p>${esc(L.period)}: ${esc(r.from)} — ${esc(r.to)} (${esc(r.timezone)}). ${esc(L.tickets)}: ${r.tickets}.
${esc(L.mtta)}: ${esc(minutes(r.mtta_s, L))}. ${esc(L.mttr)}: ${esc(minutes(r.mttr_s, L))}.
${esc(L.selfResolved)}: ${r.self_resolved.self} / ${r.self_resolved.resolved} (${esc(pct(r.self_resolved.share))}).</p>
<h2>${esc(L.onTime)}</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="480" height="${20 + r.on_time.length * 30}" role="img" aria-label="${esc(L.onTime)}">${r.on_time.map((o, i) => bar(i, o)).join('')}</svg>
<table>${head([L.deadline, L.met, L.breached, L.pending, L.share])}${r.on_time
    .map((o) => row([L.kind[o.kind], o.met, o.breached, o.pending, pct(o.share)]))
    .join('')}</table>
<h2>${esc(L.byClass)}</h2>
<table>${head([L.cls, L.priority, L.tickets, L.selfResolved])}${r.by_class_priority
    .map((c) => row([c.incident_class, c.priority, c.tickets, c.self_resolved]))
    .join('')}</table>
<h2>${esc(L.worstStores)}</h2>
<table>${head([L.store, L.tickets, L.withBreach])}${r.worst_stores
    .map((s) => row([s.store, s.tickets, s.breached]))
    .join('')}</table>
<h2>${esc(L.worstDevices)}</h2>
<table>${head([L.store, L.till, L.device, L.tickets])}${r.worst_devices
    .map((d) => row([d.store, d.till ?? L.none, d.device ?? L.none, d.tickets]))
    .join('')}</table>
<p>${esc(L.generated)}: ${esc(r.generated_at)}</p>
</body></html>
`;
}

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. A leading =, +, - or @
// is prefixed with ' so a spreadsheet does not run a label value as a formula.
const csvField = (v: string | number | null) => {
  let s = v === null ? '' : String(v);
  if (/^[=+\-@]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One CSV, a section per row group: on_time, class_priority, store, device, self_resolved, time. */
export function reportCsv(r: SlaReport): string {
  const rows: (string | number | null)[][] = [
    ['section', 'name', 'priority', 'tickets', 'met', 'breached', 'pending', 'share'],
  ];
  for (const o of r.on_time)
    rows.push(['on_time', o.kind, null, null, o.met, o.breached, o.pending, o.share]);
  for (const c of r.by_class_priority)
    rows.push(['class_priority', c.incident_class, c.priority, c.tickets, null, null, null, null]);
  for (const s of r.worst_stores)
    rows.push(['store', s.store, null, s.tickets, null, s.breached, null, null]);
  for (const d of r.worst_devices)
    rows.push([
      'device',
      [d.store, d.till ?? '', d.device ?? ''].join('/'),
      null,
      d.tickets,
      null,
      null,
      null,
      null,
    ]);
  rows.push([
    'self_resolved',
    'self',
    null,
    r.self_resolved.resolved,
    r.self_resolved.self,
    null,
    null,
    r.self_resolved.share,
  ]);
  rows.push(['time', 'mtta_seconds', null, null, null, null, null, r.mtta_s]);
  rows.push(['time', 'mttr_seconds', null, null, null, null, null, r.mttr_s]);
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
