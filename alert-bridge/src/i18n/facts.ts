import { formatTime } from './time.js';
import type { Locale } from '../knowledge-base.js';

/**
 * The ticket's snapshot (samples of the till's till_* series when it opened) as the few facts that
 * matter for its incident class: for fiscal faults the ФН and registrar, for paper and cover the
 * printer, for УТМ the certificates, and so on, instead of hundreds of raw series.
 */
type Kind = 'yes' | 'no' | 'time' | 'count' | 'seconds' | 'bytes' | 'ratio' | 'code' | 'state';
interface Fact {
  metric: string;
  kind: Kind;
  ru: string;
  en: string;
  /** For state sets (till_marking_status{status}), only the sample at 1 is the state. */
  only?: (labels: Record<string, string>, value: number) => boolean;
}

const f = (metric: string, kind: Kind, ru: string, en: string, only?: Fact['only']): Fact => ({
  metric,
  kind,
  ru,
  en,
  ...(only ? { only } : {}),
});

const up = f('till_device_up', 'yes', 'Устройство отвечает', 'Device answering');
const errCode = f('till_fiscal_last_error_code', 'code', 'Код последней ошибки', 'Last error code');
const raised = (_l: Record<string, string>, v: number) => v === 1;

const FISCAL = [
  f('till_fiscal_fn_expiry_timestamp_seconds', 'time', 'Срок ФН', 'FN valid until'),
  f('till_fiscal_fn_documents_remaining', 'count', 'Документов в ФН осталось', 'FN documents left'),
  f('till_fiscal_fn_warning', 'state', 'Предупреждение ФН', 'FN warning', raised),
  f('till_fiscal_ofd_unsent_documents', 'count', 'Не отправлено в ОФД', 'Unsent to OFD'),
  f('till_fiscal_ofd_oldest_unsent_timestamp_seconds', 'time', 'Старейший неотправленный', 'Oldest unsent'),
  f('till_fiscal_ofd_connected', 'yes', 'Связь с ОФД', 'OFD connected'),
  f('till_fiscal_shift_open', 'yes', 'Смена открыта', 'Shift open'),
  f('till_fiscal_shift_opened_timestamp_seconds', 'time', 'Смена открыта в', 'Shift opened at'),
  f('till_fiscal_shift_expired', 'no', 'Смена превысила 24 ч', 'Shift over 24 h'),
  f('till_fiscal_clock_offset_seconds', 'seconds', 'Часы ККТ расходятся на', 'Registrar clock offset'),
  errCode,
  up,
];

const BY_CLASS: [RegExp, Fact[]][] = [
  [
    /^fiscal\.(paper_out|cover_open)$/,
    [
      f('till_fiscal_paper_present', 'yes', 'Бумага есть', 'Paper present'),
      f('till_fiscal_cover_open', 'no', 'Крышка открыта', 'Cover open'),
      errCode,
      up,
    ],
  ],
  [/^fiscal\./, FISCAL],
  [
    /^egais\./,
    [
      f(
        'till_utm_certificate_expiry_timestamp_seconds',
        'time',
        'Сертификат УТМ действует до',
        'UTM certificate until',
      ),
      f(
        'till_utm_oldest_unsent_receipt_timestamp_seconds',
        'time',
        'Старейший неотправленный чек',
        'Oldest unsent receipt',
      ),
      up,
    ],
  ],
  [
    /^marking\./,
    [
      f('till_marking_status', 'state', 'Статус ЛМ ЧЗ', 'Marking module status', raised),
      f('till_marking_last_sync_timestamp_seconds', 'time', 'Последняя синхронизация', 'Last sync'),
      f('till_marking_requires_download', 'no', 'Требуется загрузка', 'Download required'),
      up,
    ],
  ],
  [
    /^network\./,
    [
      f('till_probe_success', 'yes', 'Проверка успешна', 'Probe succeeded'),
      f('till_probe_duration_seconds', 'seconds', 'Длительность проверки', 'Probe duration'),
      f('till_probe_tls_cert_expiry_timestamp_seconds', 'time', 'TLS-сертификат до', 'TLS certificate until'),
    ],
  ],
  [/^peripheral\./, [f('till_device_present', 'yes', 'Устройство подключено', 'Device plugged in'), up]],
  [
    /^software\./,
    [
      f('till_process_up', 'yes', 'Процесс запущен', 'Process running'),
      f('till_process_restarts_total', 'count', 'Перезапусков', 'Restarts'),
    ],
  ],
  [
    /^system\./,
    [
      f('till_filesystem_avail_bytes', 'bytes', 'Свободно на диске', 'Disk free'),
      f('till_memory_available_bytes', 'bytes', 'Свободно памяти', 'Memory available'),
      f('till_clock_offset_seconds', 'seconds', 'Часы ПК расходятся на', 'PC clock offset'),
      f('till_clock_sync_success', 'yes', 'Синхронизация времени', 'Time sync'),
      f('till_cpu_usage_ratio', 'ratio', 'Загрузка ЦП', 'CPU usage'),
    ],
  ],
  [/^exporter\./, [f('till_collector_success', 'yes', 'Сборщик работает', 'Collector succeeding')]],
];

const YES = { ru: ['да', 'нет'], en: ['yes', 'no'] };
// Labels that only repeat the place the page already names.
const PLACE = new Set(['__name__', 'chain', 'region', 'store', 'instance', 'job', 'kind']);
const MAX_ROWS = 16;

function value(
  kind: Kind,
  v: number,
  zone: string,
  locale: Locale,
  now: number,
  labels: Record<string, string>,
) {
  const [yes, no] = YES[locale];
  switch (kind) {
    case 'yes':
      return { text: v === 1 ? yes! : no!, bad: v !== 1 };
    case 'no':
      return { text: v === 1 ? yes! : no!, bad: v === 1 };
    case 'time':
      return { text: formatTime(v * 1000, zone, locale, { now }), bad: false };
    case 'count':
      return { text: String(v), bad: false };
    case 'seconds':
      return { text: `${Math.round(v * 10) / 10} s`, bad: false };
    case 'bytes':
      return { text: `${(v / 2 ** 30).toFixed(1)} GiB`, bad: false };
    case 'ratio':
      return { text: `${Math.round(v * 100)} %`, bad: false };
    case 'code':
      return { text: v === 0 ? '0' : `0x${v.toString(16).toUpperCase().padStart(2, '0')}`, bad: v !== 0 };
    case 'state':
      return {
        text: labels.status ?? labels.warning ?? String(v),
        // A raised FN warning is bad; a module status is bad unless ready.
        bad: labels.status === undefined || labels.status !== 'ready',
      };
  }
}

export interface SnapshotLike {
  taken_at?: string;
  samples?: { metric: Record<string, string>; value: number }[];
  error?: string;
}

/** One fact of the snapshot, as a person reads it. */
export interface KeyFact {
  label: string;
  /** The series' own labels that tell two samples apart (a device, a warning), joined. */
  where: string;
  text: string;
  /** Whether the value is itself the problem (shown highlighted). */
  bad: boolean;
}

/** The class's facts found in the snapshot, most telling first; empty when it has none of them. */
export function keyFacts(
  incidentClass: string,
  snapshot: unknown,
  zone: string,
  locale: Locale,
  now: number,
): KeyFact[] {
  const s = snapshot as SnapshotLike | null;
  if (!s || !Array.isArray(s.samples) || s.samples.length === 0) return [];
  const facts = BY_CLASS.find(([re]) => re.test(incidentClass))?.[1] ?? [up];
  const out: KeyFact[] = [];
  for (const fact of facts) {
    for (const sample of s.samples) {
      if (sample.metric.__name__ !== fact.metric) continue;
      if (fact.only && !fact.only(sample.metric, sample.value)) continue;
      const where = Object.entries(sample.metric)
        .filter(([k]) => !PLACE.has(k) && k !== 'status' && k !== 'warning')
        .map(([, v]) => v)
        .join(', ');
      out.push({
        label: fact[locale],
        where,
        ...value(fact.kind, sample.value, zone, locale, now, sample.metric),
      });
    }
  }
  return out.slice(0, MAX_ROWS);
}
