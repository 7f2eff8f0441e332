import { formatValue } from '../shared/format';
import { bestOf, bestRule, compareRows, isCurve, metricDirection } from './compareModel';
import { run, summary } from '../testing/runs';

describe('metricDirection', () => {
  it('takes names that read as a loss, an error or a time as lower-is-better', () => {
    for (const key of ['loss', 'val_loss', 'train/loss', 'valLoss', 'trainloss', 'losses', 'error', 'test_err', 'mae', 'MSE', 'rmse']) {
      expect([key, metricDirection(key)]).toEqual([key, 'lower']);
    }
    for (const key of ['duration_s', 'epoch_time', 'times', 'durations']) {
      expect([key, metricDirection(key)]).toEqual([key, 'lower']);
    }
  });

  it('takes everything else as higher-is-better, matching whole words only', () => {
    for (const key of ['acc', 'accuracy', 'f1', 'auc', 'timestamp', 'terrain', 'maestro', 'glossary']) {
      expect([key, metricDirection(key)]).toEqual([key, 'higher']);
    }
  });

  it('says the rule', () => {
    expect(bestRule('val_loss')).toMatch(/^Best is the lowest/);
    expect(bestRule('acc')).toMatch(/^Best is the highest/);
  });
});

describe('bestOf', () => {
  it('marks the lowest or highest finite value, ties included', () => {
    expect(bestOf([0.3, 0.1, 0.1], 'lower')).toEqual([false, true, true]);
    expect(bestOf([0.3, 0.1, undefined], 'higher')).toEqual([true, false, false]);
    expect(bestOf(['NaN', 0.2, 0.5], 'lower')).toEqual([false, true, false]);
  });

  it('marks nothing when no value stands out', () => {
    expect(bestOf([0.5, 0.5], 'higher')).toEqual([false, false]);
    expect(bestOf([0.5, undefined], 'higher')).toEqual([false, false]);
    expect(bestOf(['NaN', 'Infinity'], 'lower')).toEqual([false, false]);
  });
});

describe('compareRows', () => {
  const a = run('a', {
    params: { lr: '0.1', batch: '32' },
    metrics: { acc: summary(4.9, 50), duration_s: summary(10.2), f1: summary(0.8) }
  });
  const b = run('b', {
    params: { lr: '0.01', batch: '32' },
    metrics: { acc: summary(0.49, 50), duration_s: summary(8.7), f1: summary(0.8) }
  });
  const rows = compareRows([a, b], formatValue);
  const row = (id: string) => rows.find((r) => `${r.group}.${r.label}` === id)!;

  it('marks which rows differ, run facts included', () => {
    expect(rows.filter((r) => r.differs).map((r) => `${r.group}.${r.label}`)).toEqual(['params.lr', 'metrics.acc', 'metrics.duration_s']);
    expect(row('run.status').differs).toBe(false);
    expect(row('params.batch').differs).toBe(false);
  });

  it('tells single values from the latest point of a curve, and picks the best', () => {
    expect(row('metrics.acc').metric).toEqual({ kind: 'latest', direction: 'higher', best: [true, false] });
    expect(row('metrics.duration_s').metric).toEqual({ kind: 'value', direction: 'lower', best: [false, true] });
    expect(row('metrics.f1').metric!.best).toEqual([false, false]);
    expect(row('params.lr').metric).toBeUndefined();
  });

  it('shows values in full when rounding would hide that they differ', () => {
    const close = compareRows(
      [run('a', { metrics: { acc: summary(0.930001) } }), run('b', { metrics: { acc: summary(0.930002) } })],
      formatValue
    ).find((r) => r.label === 'acc')!;
    expect(close.differs).toBe(true);
    expect(close.values).toEqual(['0.930001', '0.930002']);
  });

  it('finds nothing differing in identical runs', () => {
    const same = { params: { lr: '0.1' }, tags: { team: 'vision' }, metrics: { acc: summary(0.93) } };
    expect(compareRows([run('a', same), run('b', same)], formatValue).some((r) => r.differs)).toBe(false);
  });
});

describe('isCurve', () => {
  it('is true when any run has more than one point', () => {
    expect(isCurve([run('a', { metrics: { x: summary(1) } }), run('b', { metrics: { x: summary(1, 2) } })], 'x')).toBe(true);
    expect(isCurve([run('a', { metrics: { x: summary(1) } }), run('b')], 'x')).toBe(false);
  });
});
