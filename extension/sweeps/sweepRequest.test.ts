/** The Sweep dialog's request, checked by the server's own schema, and what it says for bad input. */
import { CreateSweepRequest } from '../../server/src/contract/sweeps';
import { declaredParameters } from '../runners/parameters';
import { buildSweepRequest, defaultRange, initialSweepValues } from './sweepRequest';

const notebook = {
  cells: [
    {
      cell_type: 'code',
      metadata: { tags: ['parameters'] },
      source: 'max_iter = 500  # iterations\ntest_size = 0.25\nlr = 0.01\nseed = 0\nsolver = "lbfgs"\nwarm = False\n'
    }
  ],
  metadata: {},
  nbformat: 4,
  nbformat_minor: 5
};
const declared = declaredParameters(notebook);
const target = { project: 'demo', notebookPath: 'demo.ipynb', notebook };

function values() {
  const v = initialSweepValues(declared, { iris: 'v2' });
  v.objective = 'accuracy';
  return v;
}

test('ranges start around the cell value, of the kind its type suggests', () => {
  const byName = Object.fromEntries(declared.map((parameter) => [parameter.name, defaultRange(parameter)]));
  expect(byName.max_iter).toMatchObject({ type: 'intrange', low: '250', high: '1000', swept: false, fixed: '500' });
  expect(byName.test_size).toMatchObject({ type: 'uniform', low: '0.125', high: '0.5' });
  expect(byName.lr).toMatchObject({ type: 'loguniform', low: '0.001', high: '0.1' });
  expect(byName.seed).toMatchObject({ type: 'intrange', low: '0', high: '10' });
  expect(byName.solver).toMatchObject({ type: 'choice', values: '"lbfgs"' });
  expect(byName.warm).toMatchObject({ type: 'choice', values: 'True, False' });
});

test('every range kind makes a request the server schema accepts; unswept edits are fixed values', () => {
  const v = values();
  v.ranges.max_iter.swept = true;
  v.ranges.lr.swept = true;
  v.ranges.test_size.swept = true;
  v.ranges.solver.swept = true;
  v.ranges.solver.values = "'lbfgs', 'saga'";
  v.ranges.seed.fixed = '7';
  v.method = 'bayes';
  v.trials = '6';
  v.parallel = '2';
  v.earlyStop = true;
  v.seed = '42';
  v.labels = 'gpu, big';
  v.timeoutMinutes = '1.5';
  const request = buildSweepRequest(v, declared, target);
  expect(request).toMatchObject({
    params: {
      max_iter: { type: 'intrange', low: 250, high: 1000 },
      lr: { type: 'loguniform', low: 0.001, high: 0.1 },
      test_size: { type: 'uniform', low: 0.125, high: 0.5 },
      solver: { type: 'choice', values: ['lbfgs', 'saga'] }
    },
    fixed: { seed: 7 },
    objective: 'accuracy',
    method: 'bayes',
    trials: 6,
    parallel: 2,
    earlyStop: 'median',
    seed: 42,
    labels: ['gpu', 'big'],
    datasets: { iris: 'v2' },
    timeoutS: 90
  });
  const parsed = CreateSweepRequest.safeParse(request);
  expect(parsed.error?.issues ?? []).toEqual([]);
});

test('a grid without a trial count sweeps the whole grid; random without a seed lets the server draw one', () => {
  const v = values();
  v.ranges.warm.swept = true;
  v.method = 'grid';
  v.trials = '';
  const request = buildSweepRequest(v, declared, target);
  expect(request.trials).toBeUndefined();
  expect(request.seed).toBeUndefined();
  expect(request.params).toEqual({ warm: { type: 'choice', values: [true, false] } });
  expect(CreateSweepRequest.safeParse(request).success).toBe(true);
});

test.each([
  ['nothing ticked', () => undefined, /Tick at least one parameter/],
  [
    'no objective',
    (v: ReturnType<typeof values>) => {
      v.objective = ' ';
    },
    /Objective: the metric/
  ],
  [
    'low not below high',
    (v: ReturnType<typeof values>) => {
      v.ranges.test_size.low = '0.5';
    },
    /test_size: high \(0.5\) must be above low \(0.5\)/
  ],
  [
    'a fractional bound of whole numbers',
    (v: ReturnType<typeof values>) => {
      v.ranges.max_iter.type = 'intrange';
      v.ranges.max_iter.low = '2.5';
    },
    /max_iter: low must be a whole number/
  ],
  [
    'a log range from 0',
    (v: ReturnType<typeof values>) => {
      v.ranges.test_size.type = 'loguniform';
      v.ranges.test_size.low = '0';
    },
    /test_size: a log-uniform range must start above 0/
  ],
  [
    'values that are not literals',
    (v: ReturnType<typeof values>) => {
      v.ranges.solver.values = 'lbfgs, saga';
    },
    /solver: the values, separated by commas, as Python literals/
  ],
  [
    'a list among the values',
    (v: ReturnType<typeof values>) => {
      v.ranges.solver.values = '[1, 2]';
    },
    /solver: one value or more, each a number, a string/
  ],
  [
    'zero trials at once',
    (v: ReturnType<typeof values>) => {
      v.parallel = '0';
    },
    /At once: a whole number of at least 1/
  ],
  [
    'a fixed value that is not a literal',
    (v: ReturnType<typeof values>) => {
      v.ranges.seed.fixed = 'seven';
    },
    /Parameter seed: .*Write a Python literal/
  ]
])('%s: a sentence that says what to change', (_name, change, message) => {
  const v = values();
  if (_name !== 'nothing ticked') {
    v.ranges.test_size.swept = true;
    v.ranges.max_iter.swept = true;
    v.ranges.solver.swept = true;
  }
  change(v);
  expect(() => buildSweepRequest(v, declared, target)).toThrow(message);
});
