import { MappingType } from '@grafana/data';
import { alertFrame, seriesFrame } from './frame-factory';
import { findNode, HierarchyModel } from './hierarchy';
import { problemsOf } from './problems';
import { State } from './states';
import { model } from './test-model';

const place = (store: string, till: string) => ({ chain: 'acme', region: 'north', store, till });
const levels = ['chain', 'region', 'store', 'till'];
const at = (m: HierarchyModel, ...path: string[]) => findNode(m, ['acme', 'north', ...path])!;

describe('problemsOf: the reason on a tile', () => {
  const m = model(
    [
      seriesFrame(place('s1', 't1'), 1),
      seriesFrame(place('s1', 't2'), 1),
      seriesFrame(place('s2', 't1'), 1),
      seriesFrame(place('s2', 't2'), 0),
      seriesFrame(place('s3', 't1'), null),
      alertFrame({ ...place('s1', 't1'), alertname: 'TillFiscalPaperOut', severity: 'critical', short: 'Нет бумаги' }),
      alertFrame({
        ...place('s1', 't1'),
        alertname: 'TillPeripheralMissing',
        severity: 'warning',
        short: 'Нет сканера',
      }),
      alertFrame({
        ...place('s1', 't1'),
        alertname: 'TillProcessCrashLooping',
        severity: 'warning',
        short: 'Сбой программы',
      }),
      alertFrame({
        chain: 'acme',
        region: 'north',
        store: 's2',
        alertname: 'TillStoreUnreachable',
        severity: 'critical',
        short: 'Магазин недоступен',
      }),
    ],
    {
      levels,
      fieldConfig: {
        defaults: {
          noValue: 'Нет данных',
          mappings: [{ type: MappingType.ValueToText, options: { '0': { text: 'Устройство не отвечает' } } }],
        },
      },
    }
  );

  it('names the worst problem and counts the others', () => {
    expect(problemsOf(m, at(m, 's1', 't1'))).toMatchObject({ state: State.critical, reason: 'Нет бумаги', more: 2 });
  });

  it('shows a store outage on the store and on each of its tills', () => {
    expect(problemsOf(m, at(m, 's2'))).toMatchObject({ state: State.critical, reason: 'Магазин недоступен' });
    expect(problemsOf(m, at(m, 's2', 't1'))).toMatchObject({ reason: 'Магазин недоступен', more: 0 });
  });

  it('names a problem no alert explains by its value mapping, or the "No value" text', () => {
    expect(problemsOf(m, at(m, 's3', 't1'))).toMatchObject({ state: State.unknown, reason: 'Нет данных' });
    const lone = model([seriesFrame(place('s9', 't1'), 0)], {
      levels,
      fieldConfig: {
        defaults: {
          mappings: [{ type: MappingType.ValueToText, options: { '0': { text: 'Устройство не отвечает' } } }],
        },
      },
    });
    expect(problemsOf(lone, at(lone, 's9', 't1'))).toMatchObject({
      state: State.warning,
      reason: 'Устройство не отвечает',
    });
  });

  it('has nothing to say about a healthy tile', () => {
    expect(problemsOf(m, at(m, 's1', 't2'))).toBeUndefined();
  });
});
