/**
 * Property-based round trips through a real server (fast-check): whatever a client sends is
 * either refused with a 400 that names the offending field, or reads back equal through every
 * read endpoint. Never a 5xx, never a silent drop.
 *
 * Each property builds its expectation from the contract's documented rules (written out here,
 * not imported, so a change to the contract shows up as a failing property, not a silently
 * changed oracle). A field is `valid` (must be accepted), `invalid` (must be refused, naming
 * it) or `either` (a choice the contract leaves open, such as a lone UTF-16 surrogate: refused
 * with a 400 naming it, or kept exactly).
 *
 * Non-finite metric values travel as the strings "NaN", "Infinity" and "-Infinity" in value
 * positions, both ways; they are stored, and kept out of min/max (null while a series has no
 * finite value). A reproduction of a failure
 * is printed with its seed: rerun with FC_SEED=<seed> (and FC_PATH=<path>).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import { startServer, type TestResponse, type TestServer } from './helpers';

jest.setTimeout(60_000);

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

/** Bounded for a shared 2-core machine: each property stops after its time budget. */
const RUNS = Number(process.env.FC_RUNS ?? 100);
const TIME_LIMIT_MS = Number(process.env.FC_TIME_LIMIT_MS ?? 12_000);

/** Long repeated runs (`vvvv…`) written as `v×6001`, so a counterexample stays readable. */
const compact = (text: string): string => text.replace(/(.)\1{15,}/gsu, (run, char: string) => `${char}×${[...run].length}`);

/** fc.assert, bounded in time, with counterexamples compacted. */
async function check<Ts extends unknown[]>(property: fc.IAsyncPropertyWithHooks<Ts>): Promise<void> {
  const details = await fc.check(property, {
    numRuns: RUNS,
    interruptAfterTimeLimit: TIME_LIMIT_MS,
    ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {})
  });
  if (!details.failed) return;
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(compact(`${(await fc.asyncDefaultReportMessage(details)) ?? 'property failed'}\n\nCause: ${cause}`));
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------------
// the contract's rules, as a client reads them

/**
 * LogKey: MLflow's key characters (JavaScript's ASCII `\w`), 1 to 250 of them, as a normalized
 * path — no `.` or `..` segment, no leading, trailing or doubled `/`.
 */
const isLogKey = (key: string): boolean =>
  key.length >= 1 &&
  key.length <= 250 &&
  /^[\w\-. /:]+$/.test(key) &&
  !key.startsWith('/') &&
  !key.endsWith('/') &&
  key.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
/** Steps and timestamps: whole numbers from 0 to 2^53 - 1. */
const isWholeNumber = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_SAFE;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const hasLoneSurrogate = (text: string): boolean => LONE_SURROGATE.test(text);

/** zod 4 measures strings in code points (`.max(6000)` takes 6,000 emoji), as Python's len() does. */
const codePoints = (text: string): number => [...text].length;

/** RelativePath: `/`-separated, relative, no empty, `.` or `..` segments, no `\` or NUL, ≤ 1000. */
function isRelativePath(path: string): boolean {
  if (path.length < 1 || codePoints(path) > 1000) return false;
  if (path.includes('\\') || path.includes('\0')) return false;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

type Verdict = 'valid' | 'invalid' | 'either';
interface FieldVerdict {
  path: string;
  verdict: Verdict;
}

/** A string field of at most `max` code points (zod's `.max`). */
const textVerdict = (text: string, max: number): Verdict =>
  codePoints(text) > max ? 'invalid' : hasLoneSurrogate(text) ? 'either' : 'valid';

/** Whether a problem path reported by the server names this field (or a record/array holding it). */
const names = (reported: string, field: string): boolean =>
  reported === field || field.startsWith(`${reported}.`) || reported.startsWith(`${field}.`);

/**
 * The answer to a request whose fields have these verdicts: never a 5xx; a 400 for an invalid
 * field, naming one of the fields that may be refused and no field that must be accepted; a
 * success when every field must be accepted. Returns whether the request was accepted.
 */
function expectAnswer(response: TestResponse, fields: readonly FieldVerdict[], successStatus: number, what: string): boolean {
  const context = `${what}: ${response.status} ${response.text.slice(0, 600)}`;
  if (response.status >= 500) throw new Error(`server error for ${context}`);
  const refusable = fields.filter((field) => field.verdict !== 'valid');
  const mustRefuse = fields.some((field) => field.verdict === 'invalid');
  if (response.status === successStatus) {
    if (mustRefuse) {
      throw new Error(
        `accepted invalid ${fields
          .filter((f) => f.verdict === 'invalid')
          .map((f) => f.path)
          .join(', ')}; ${context}`
      );
    }
    return true;
  }
  if (response.status !== 400 || response.body?.error?.code !== 'invalid_request') {
    throw new Error(`expected ${successStatus} or a 400 invalid_request; ${context}`);
  }
  if (refusable.length === 0) throw new Error(`refused a request the contract allows; ${context}`);
  const reported: string[] = (response.body.error.details ?? []).map((detail: { path: string }) => detail.path);
  if (!reported.some((path) => refusable.some((field) => names(path, field.path)))) {
    throw new Error(`the 400 names none of ${refusable.map((f) => f.path).join(', ')}; ${context}`);
  }
  for (const path of reported) {
    const blamed = fields.filter((field) => names(path, field.path));
    if (blamed.length > 0 && blamed.every((field) => field.verdict === 'valid')) {
      throw new Error(`the 400 blames valid field ${path}; ${context}`);
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// JSON both ways: non-finite numbers as strings, -0 sent as -0

const NEGATIVE_ZERO = '\u0000-0\u0000';

/** JSON text for a request; NaN/±Infinity become "NaN"/"Infinity"/"-Infinity", -0 stays -0. */
function encode(body: unknown): string {
  return JSON.stringify(body, (_key, value) => {
    if (typeof value !== 'number') return value;
    if (Number.isNaN(value)) return 'NaN';
    if (value === Infinity) return 'Infinity';
    if (value === -Infinity) return '-Infinity';
    return Object.is(value, -0) ? NEGATIVE_ZERO : value;
  }).replaceAll(JSON.stringify(NEGATIVE_ZERO), '-0');
}

/** A number as the server answers it in a value position. */
function decodeNumber(value: unknown, where: string): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  throw new Error(`${where}: ${JSON.stringify(value)} is not a number`);
}

/**
 * IEEE equality, with NaN equal to NaN. -0 and 0 are equal: JSON.stringify writes -0 as 0,
 * so no JSON answer of this server can tell them apart.
 */
const sameNumber = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));

const post = (path: string, body: unknown) => server.request('POST', path, { rawBody: encode(body) });

/**
 * GET through node:http with every `.` of the key percent-encoded: fetch (WHATWG URL) would
 * resolve a key of `.` or `..` as a dot segment. The extension's way is tested separately below.
 */
function getRaw(path: string): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    // host/port/path, not a URL: node would parse a URL string with WHATWG rules too.
    const { hostname, port } = new URL(server.url);
    const headers = { authorization: `Bearer ${server.adminToken}` };
    const request = http.get({ hostname, port, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: response.statusCode ?? 0, headers: new Headers(), text, body });
      });
    });
    request.on('error', reject);
  });
}

const keyInPath = (key: string): string => encodeURIComponent(key).replaceAll('.', '%2E');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer; the properties that read it check its shape
async function readOk(response: Promise<TestResponse>, what: string): Promise<any> {
  const answer = await response;
  if (answer.status !== 200) throw new Error(`${what}: ${answer.status} ${answer.text.slice(0, 600)}`);
  return answer.body;
}

/** Own entries only, so `__proto__` and friends are plain keys both ways. */
const record = (entries: readonly (readonly [string, string])[]): Record<string, string> => Object.fromEntries(entries);

function expectSameRecord(actual: unknown, expected: Record<string, string>, what: string): void {
  const got = Object.entries(actual as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const want = Object.entries(expected).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`${what} read back differently:\n  sent ${JSON.stringify(want)}\n  read ${JSON.stringify(got)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// arbitraries

const KEY_ALPHABET = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-. /:'];
const ADVERSARIAL_KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'prototype',
  'isPrototypeOf',
  '__defineGetter__',
  'propertyIsEnumerable',
  'then',
  'length',
  'NaN',
  'Infinity',
  '0',
  '00',
  '1e3',
  ' ',
  '  ',
  '.',
  '..',
  '...',
  '/',
  '//',
  ':',
  '-',
  '_',
  'a b',
  'a/b',
  'a:b',
  'a.b',
  'train/loss',
  '/leading',
  'trailing/',
  ' padded ',
  'a/../b',
  'x'.repeat(250)
];
/** Keys the contract refuses, the way a user might write them. */
const BAD_KEYS = ['', 'x'.repeat(251), 'é', 'naïve', 'a\n', 'tab\t', 'nul\u0000', 'back\\slash', 'q?', 'h#', '%2F', '😀', 'a,b'];

const logKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ADVERSARIAL_KEYS) },
  { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(...KEY_ALPHABET), minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...KEY_ALPHABET), minLength: 1, maxLength: 250 }) }
);
const anyKey = fc.oneof({ weight: 12, arbitrary: logKey }, { weight: 1, arbitrary: fc.constantFrom(...BAD_KEYS) });

/** Any text: every code point (astral included, NUL included), sometimes a lone surrogate. */
const unicodeText = (maxLength: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength: Math.min(maxLength, 40) }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    {
      weight: 1,
      arbitrary: fc.string({
        unit: fc.oneof(fc.constantFrom('\uD800', '\uDFFF', '\uD83D'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
        maxLength: 8
      })
    }
  );
/** Near a limit of `max` code points, below, at and past it; astral ones are two UTF-16 units each. */
const textAround = (max: number) =>
  fc.tuple(fc.integer({ min: max - 2, max: max + 1 }), fc.constantFrom('v', '😀', 'é')).map(([length, char]) => char.repeat(length));
const paramValue = fc.oneof({ weight: 8, arbitrary: unicodeText(300) }, { weight: 1, arbitrary: textAround(6000) });
const tagValue = fc.oneof({ weight: 8, arbitrary: unicodeText(300) }, { weight: 1, arbitrary: textAround(8000) });

const entries = <V>(key: fc.Arbitrary<string>, value: fc.Arbitrary<V>, maxLength: number) =>
  fc.uniqueArray(fc.tuple(key, value), { maxLength, selector: ([k]) => k });

/** Any double: -0, subnormals, the extremes, NaN and ±Infinity included. */
const metricValue = fc.oneof(
  { weight: 4, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.integer() },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      0,
      -0,
      5e-324,
      -5e-324,
      2.2250738585072014e-308,
      1e308,
      -1e308,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      0.1,
      MAX_SAFE,
      2 ** 53 + 2,
      NaN,
      Infinity,
      -Infinity
    )
  }
);
const wholeNumber = fc.oneof(fc.nat(30), fc.constantFrom(0, -0, 1, MAX_SAFE - 1, MAX_SAFE), fc.integer({ min: 4e12, max: MAX_SAFE }));
/** Steps and timestamps past the rule: 2^53 and beyond, negative, fractional. */
const badWholeNumber = fc.constantFrom(2 ** 53, 2 ** 53 + 2, 2 ** 60, 2 ** 64, 1e21, Number.MAX_VALUE, -1, -0.5, 1.5, 1e15 + 0.5);
/**
 * Timestamps never fall near the server's clock (< 1,000 or > year 2096), so where an omitted
 * timestamp (the server's time) sorts among them is known.
 */
const stepOrTime = fc.oneof({ weight: 12, arbitrary: wholeNumber }, { weight: 1, arbitrary: badWholeNumber });

// ---------------------------------------------------------------------------------------------
// 1. creating a run: params, tags and name

const PROJECT = 'roundtrip-props';
/** A project per example, so a run an earlier example broke cannot fail this one's list read. */
let projectCounter = 0;
const freshProject = (): string => `roundtrip-${++projectCounter}`;

test('POST /api/runs: params, tags and name read back equal (get and list), or a 400 names the field', async () => {
  await check(
    fc.asyncProperty(
      entries(anyKey, paramValue, 8),
      entries(anyKey, tagValue, 6),
      fc.option(fc.oneof(unicodeText(60), textAround(250)), { nil: undefined }),
      async (paramEntries, tagEntries, name) => {
        const fields: FieldVerdict[] = [
          ...paramEntries.map(([key, value]) => ({
            path: `body.params.${key}`,
            verdict: isLogKey(key) ? textVerdict(value, 6000) : ('invalid' as Verdict)
          })),
          ...tagEntries.map(([key, value]) => ({
            path: `body.tags.${key}`,
            verdict: isLogKey(key) ? textVerdict(value, 8000) : ('invalid' as Verdict)
          })),
          ...(name === undefined ? [] : [{ path: 'body.name', verdict: textVerdict(name, 250) }])
        ];
        const params = record(paramEntries);
        const tags = record(tagEntries);
        const project = freshProject();
        const body = { project, params, tags, ...(name === undefined ? {} : { name }) };
        const created = await post('/api/runs', body);
        if (!expectAnswer(created, fields, 201, 'POST /api/runs')) return;

        const id: string = created.body.id;
        const fetched = await readOk(getRaw(`/api/runs/${id}`), 'GET /api/runs/:id');
        const listed = (await readOk(getRaw(`/api/runs?project=${project}`), 'GET /api/runs?project=')).runs.find(
          (run: { id: string }) => run.id === id
        );
        if (!listed) throw new Error(`run ${id} is missing from GET /api/runs?project=${project}`);
        // Names are trimmed; an empty one becomes run-<number>.
        const expectedName = name?.trim() || undefined;
        for (const [what, run] of [
          ['created', created.body],
          ['GET /api/runs/:id', fetched],
          ['GET /api/runs', listed]
        ] as const) {
          expectSameRecord(run.params, params, `params (${what})`);
          expectSameRecord(run.tags, tags, `tags (${what})`);
          if (expectedName === undefined ? !/^run-\d+$/.test(run.name) : run.name !== expectedName) {
            throw new Error(`name (${what}) read back as ${JSON.stringify(run.name)}, sent ${JSON.stringify(name)}`);
          }
        }
      }
    )
  );
});

// ---------------------------------------------------------------------------------------------
// 2. logging: params, tags and metric points, as objects and as columns

interface PointInput {
  keyIndex: number;
  value: number;
  /** undefined (objects) / null (columns): one more than the key's greatest step. */
  step: number | undefined;
  /** undefined: the server's time (objects only; columns always carry one). */
  timestamp: number | undefined;
}

interface BatchInput {
  /** The batch's keys: objects use them by index, columns send them as `keys` (duplicates possible). */
  keys: string[];
  objects: PointInput[];
  columns: PointInput[] | null;
  params: [string, string][];
  tags: [string, string][];
}

const pointOf = (keyCount: number, withTimestamp: boolean) =>
  fc.record({
    keyIndex: fc.nat(keyCount - 1),
    value: metricValue,
    step: fc.option(stepOrTime, { nil: undefined, freq: 3 }),
    timestamp: withTimestamp ? stepOrTime : fc.option(stepOrTime, { nil: undefined, freq: 3 })
  });

const batchArbitrary = (withParams: boolean): fc.Arbitrary<BatchInput> =>
  fc
    .tuple(
      fc.oneof(
        { weight: 8, arbitrary: fc.uniqueArray(anyKey, { minLength: 1, maxLength: 4 }) },
        // The same key twice in metricColumns.keys (nothing in the contract forbids it).
        { weight: 1, arbitrary: logKey.map((key) => [key, key]) }
      ),
      fc.constantFrom('objects', 'columns', 'both')
    )
    .chain(([keys, form]) =>
      fc.record({
        keys: fc.constant(keys),
        objects: form === 'columns' ? fc.constant([]) : fc.array(pointOf(keys.length, false), { minLength: 1, maxLength: 12 }),
        columns: form === 'objects' ? fc.constant(null) : fc.array(pointOf(keys.length, true), { minLength: 1, maxLength: 12 }),
        params: withParams ? entries(anyKey, paramValue, 4) : fc.constant([]),
        tags: entries(anyKey, tagValue, 3)
      })
    );

interface ModelPoint {
  step: number;
  value: number;
  /** null: the server's time during batch `batch`. */
  timestamp: number | null;
  batch: number;
}

let batchCounter = 0;

test('POST /api/runs/:id/log (objects and columns): points, summaries, params and tags read back equal, or a 400 names the field', async () => {
  await check(
    // The first batch may carry params (write-once); later ones tags and points only.
    fc.asyncProperty(batchArbitrary(true), fc.array(batchArbitrary(false), { maxLength: 3 }), async (first, later) => {
      const batches = [first, ...later];
      const project = freshProject();
      const created = await post('/api/runs', { project, name: 'log-props' });
      expect(created.status).toBe(201);
      const id: string = created.body.id;

      // What the server must hold after the accepted batches.
      const series = new Map<string, ModelPoint[]>();
      const greatestStep = new Map<string, number>();
      const params: [string, string][] = [];
      const tags = new Map<string, string>();
      const windows: [number, number][] = [];
      let anyTieOrderUnknown = false;

      for (const [batchNo, batch] of batches.entries()) {
        const fields: FieldVerdict[] = [];
        batch.params.forEach(([key, value]) =>
          fields.push({ path: `body.params.${key}`, verdict: isLogKey(key) ? textVerdict(value, 6000) : 'invalid' })
        );
        batch.tags.forEach(([key, value]) =>
          fields.push({ path: `body.tags.${key}`, verdict: isLogKey(key) ? textVerdict(value, 8000) : 'invalid' })
        );
        const duplicateKeys = batch.columns !== null && new Set(batch.keys).size < batch.keys.length;
        if (batch.columns !== null) {
          batch.keys.forEach((key, index) =>
            fields.push({
              path: `body.metricColumns.keys.${index}`,
              verdict: !isLogKey(key) ? 'invalid' : batch.keys.indexOf(key) < index ? 'either' : 'valid'
            })
          );
        }
        // Points in the order the server stores them: objects first, then columns.
        const stepsAfter = new Map(greatestStep);
        const pending: { key: string; point: ModelPoint }[] = [];
        interface PointPaths {
          key: ((index: number) => string) | null;
          value: (index: number) => string;
          step: (index: number) => string;
          timestamp: (index: number) => string;
        }
        const visit = (points: readonly PointInput[], paths: PointPaths): void => {
          points.forEach((point, index) => {
            const key = batch.keys[point.keyIndex];
            if (paths.key) fields.push({ path: paths.key(index), verdict: isLogKey(key) ? 'valid' : 'invalid' });
            fields.push({ path: paths.value(index), verdict: 'valid' });
            const resolved = point.step !== undefined ? point.step : (stepsAfter.get(key) ?? -1) + 1;
            fields.push({ path: paths.step(index), verdict: isWholeNumber(resolved) ? 'valid' : 'invalid' });
            if (point.timestamp !== undefined) {
              fields.push({ path: paths.timestamp(index), verdict: isWholeNumber(point.timestamp) ? 'valid' : 'invalid' });
            }
            if (isLogKey(key) && isWholeNumber(resolved)) stepsAfter.set(key, Math.max(stepsAfter.get(key) ?? -1, resolved));
            pending.push({ key, point: { step: resolved, value: point.value, timestamp: point.timestamp ?? null, batch: batchNo } });
          });
        };
        visit(batch.objects, {
          key: (i) => `body.metrics.${i}.key`,
          value: (i) => `body.metrics.${i}.value`,
          step: (i) => `body.metrics.${i}.step`,
          timestamp: (i) => `body.metrics.${i}.timestamp`
        });
        if (batch.columns !== null) {
          visit(batch.columns, {
            key: null,
            value: (i) => `body.metricColumns.values.${i}`,
            step: (i) => `body.metricColumns.steps.${i}`,
            timestamp: (i) => `body.metricColumns.timestamps.${i}`
          });
        }

        const body: Record<string, unknown> = { idempotencyKey: `roundtrip-${++batchCounter}-${Date.now()}` };
        if (batch.params.length) body.params = record(batch.params);
        if (batch.tags.length) body.tags = record(batch.tags);
        if (batch.objects.length) {
          body.metrics = batch.objects.map((point) => ({
            key: batch.keys[point.keyIndex],
            value: point.value,
            ...(point.step === undefined ? {} : { step: point.step }),
            ...(point.timestamp === undefined ? {} : { timestamp: point.timestamp })
          }));
        }
        if (batch.columns !== null) {
          body.metricColumns = {
            keys: batch.keys,
            keyIndex: batch.columns.map((point) => point.keyIndex),
            values: batch.columns.map((point) => point.value),
            steps: batch.columns.map((point) => point.step ?? null),
            timestamps: batch.columns.map((point) => point.timestamp)
          };
        }
        const startedAt = Date.now();
        const answer = await post(`/api/runs/${id}/log`, body);
        windows[batchNo] = [startedAt, Date.now()];
        if (!expectAnswer(answer, fields, 200, `POST /api/runs/:id/log (batch ${batchNo})`)) continue;
        const pointCount = batch.objects.length + (batch.columns?.length ?? 0);
        if (answer.body.stored !== pointCount || answer.body.duplicate !== false) {
          throw new Error(`batch ${batchNo}: answered ${answer.text}, sent ${pointCount} points`);
        }
        anyTieOrderUnknown ||= duplicateKeys;
        for (const [key, value] of batch.params) params.push([key, value]);
        for (const [key, value] of batch.tags) tags.set(key, value);
        for (const [key, step] of stepsAfter) greatestStep.set(key, step);
        for (const { key, point } of pending) {
          if (!series.has(key)) series.set(key, []);
          (series.get(key) as ModelPoint[]).push(point);
        }
      }

      const run = await readOk(getRaw(`/api/runs/${id}`), 'GET /api/runs/:id');
      const listed = (await readOk(getRaw(`/api/runs?project=${project}`), 'GET /api/runs?project=')).runs.find(
        (item: { id: string }) => item.id === id
      );
      if (!listed) throw new Error(`run ${id} is missing from GET /api/runs?project=`);
      expectSameRecord(run.params, record(params), 'params');
      expectSameRecord(run.tags, record([...tags]), 'tags');
      expectSameRecord(listed.params, record(params), 'params (list)');
      expectSameRecord(listed.tags, record([...tags]), 'tags (list)');
      const storedKeys = Object.keys(run.metrics).sort();
      const sentKeys = [...series.keys()].sort();
      if (JSON.stringify(storedKeys) !== JSON.stringify(sentKeys)) {
        throw new Error(`metric keys read back as ${JSON.stringify(storedKeys)}, sent ${JSON.stringify(sentKeys)}`);
      }
      if (JSON.stringify(Object.keys(listed.metrics).sort()) !== JSON.stringify(sentKeys)) {
        throw new Error(`metric keys in the list: ${JSON.stringify(Object.keys(listed.metrics))}, sent ${JSON.stringify(sentKeys)}`);
      }

      for (const [key, sent] of series) {
        const history = await readOk(
          getRaw(`/api/runs/${id}/metrics/${keyInPath(key)}?maxPoints=100000`),
          `GET /api/runs/:id/metrics/${key}`
        );
        if (history.key !== key || history.downsampled !== false || history.total !== sent.length) {
          throw new Error(
            `history of ${JSON.stringify(key)}: key ${JSON.stringify(history.key)}, total ${history.total}, downsampled ${history.downsampled}; sent ${sent.length} points`
          );
        }
        const points = (history.points as { step: number; value: unknown; timestamp: number }[]).map((point, index) => ({
          step: point.step,
          value: decodeNumber(point.value, `history ${key} point ${index}`),
          timestamp: point.timestamp
        }));
        // Server time of a batch sorts after timestamps < 1,000 and before those > year 2096.
        const sortTime = (point: ModelPoint): number => point.timestamp ?? windows[point.batch][0];
        const expected = sent
          .map((point, order) => ({ point, order }))
          .sort(
            (a, b) =>
              a.point.step - b.point.step || sortTime(a.point) - sortTime(b.point) || a.point.batch - b.point.batch || a.order - b.order
          )
          .map(({ point }) => point);
        const show = () =>
          `\n  sent ${JSON.stringify(expected.map((p) => [p.step, String(p.value), p.timestamp]))}\n  read ${JSON.stringify(points.map((p) => [p.step, String(p.value), p.timestamp]))}`;
        if (points.length !== expected.length) throw new Error(`history of ${JSON.stringify(key)}: ${points.length} points${show()}`);
        const serverTimes = new Map<number, number>();
        const matches = (got: (typeof points)[number], want: ModelPoint): boolean => {
          if (got.step !== want.step) return false;
          if (want.timestamp === null) {
            const [from, to] = windows[want.batch];
            const known = serverTimes.get(want.batch);
            if (got.timestamp < from || got.timestamp > to || (known !== undefined && known !== got.timestamp)) return false;
          } else if (got.timestamp !== want.timestamp) {
            return false;
          }
          return sameNumber(got.value, want.value);
        };
        let inOrder = true;
        for (let i = 0; i < points.length; i++) {
          if (!matches(points[i], expected[i])) inOrder = false;
          else if (expected[i].timestamp === null) serverTimes.set(expected[i].batch, points[i].timestamp);
        }
        if (!inOrder) {
          // Only the order of points sharing step and time is open (keys sent twice in one batch).
          const sameMultiset =
            anyTieOrderUnknown &&
            points.every((point, i) => point.step === expected[i].step) &&
            expected.every((want) => points.some((got) => matches(got, want)));
          if (!sameMultiset) throw new Error(`history of ${JSON.stringify(key)} differs from what was sent${show()}`);
        }

        // The summary agrees with the points, in the run, the list and the history.
        const last = points[points.length - 1];
        const finite = points.map((point) => point.value).filter(Number.isFinite);
        for (const [what, summary] of [
          ['GET /api/runs/:id', run.metrics[key]],
          ['GET /api/runs', listed.metrics[key]]
        ] as const) {
          const latest = decodeNumber(summary.latest, `${what} ${key}.latest`);
          const problems: string[] = [];
          if (summary.count !== points.length) problems.push(`count ${summary.count}, ${points.length} points`);
          if (summary.step !== last.step) problems.push(`step ${summary.step}, latest point's step ${last.step}`);
          if (!sameNumber(latest, last.value)) problems.push(`latest ${summary.latest}, latest point's value ${last.value}`);
          // min/max are over finite values only; null while there is none.
          const [min, max] = finite.length > 0 ? [Math.min(...finite), Math.max(...finite)] : [null, null];
          if (!(summary.min === min || (min !== null && typeof summary.min === 'number' && sameNumber(summary.min, min)))) {
            problems.push(`min ${JSON.stringify(summary.min)}, smallest finite value ${min}`);
          }
          if (!(summary.max === max || (max !== null && typeof summary.max === 'number' && sameNumber(summary.max, max)))) {
            problems.push(`max ${JSON.stringify(summary.max)}, largest finite value ${max}`);
          }
          if (problems.length) throw new Error(`summary of ${JSON.stringify(key)} (${what}): ${problems.join('; ')}${show()}`);
        }
      }
    })
  );
});

test('a metric key "." or ".." is refused, or readable the way the extension asks (encodeURIComponent, fetch)', async () => {
  // fetch (WHATWG URL) resolves `.`, `..` and their %2E spellings as dot segments, as browsers do.
  const created = await post('/api/runs', { project: PROJECT, name: 'dot-keys' });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  for (const key of ['.', '..']) {
    const logged = await post(`/api/runs/${id}/log`, {
      idempotencyKey: `roundtrip-dots-${key.length}-${Date.now()}`,
      metrics: [{ key, value: 1, step: 0, timestamp: 1 }]
    });
    if (!expectAnswer(logged, [{ path: 'body.metrics.0.key', verdict: 'either' }], 200, `logging key ${key}`)) continue;
    const answer = await server.request('GET', `/api/runs/${encodeURIComponent(id)}/metrics/${encodeURIComponent(key)}?maxPoints=10`);
    expect({ key, status: answer.status, body: answer.body }).toMatchObject({ key, status: 200, body: { key, total: 1 } });
  }
});

// ---------------------------------------------------------------------------------------------
// 3. dataset file paths

const CONTENT = Buffer.from('roundtrip property content\n');
const CONTENT_HASH = createHash('sha256').update(CONTENT).digest('hex');

beforeAll(async () => {
  // One stored chunk that non-empty files of the manifests point at.
  const header = Buffer.alloc(41);
  Buffer.from(CONTENT_HASH, 'hex').copy(header, 0);
  header[32] = 0;
  header.writeUInt32BE(CONTENT.length, 33);
  header.writeUInt32BE(CONTENT.length, 37);
  const response = await fetch(`${server.url}/api/chunks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/octet-stream' },
    body: Buffer.concat([header, CONTENT])
  });
  expect(response.status).toBe(200);
});

const PATH_SEGMENTS = [
  'a',
  'b',
  'data',
  'train.csv',
  '...',
  '.hidden',
  'a.',
  ' ',
  ' x ',
  '~',
  'CON',
  'nul',
  'x:y',
  '__proto__',
  'constructor',
  'é',
  'e\u0301',
  'A',
  '日本語',
  '😀',
  '#',
  '?',
  '%2F',
  'a b'
];
const segment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PATH_SEGMENTS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => !s.includes('/')) },
  { weight: 1, arbitrary: fc.constantFrom('.', '..', '', 'back\\slash', 'nul\u0000', 'C:', 'lone\uD800') }
);
const datasetPath = fc.oneof(
  { weight: 10, arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((segments) => segments.join('/')) },
  { weight: 1, arbitrary: fc.constantFrom('/abs', 'trailing/', 'a//b', 'C:/x', 'c:x', 'x'.repeat(1000), 'x'.repeat(1001)) }
);
const manifestFile = fc.record({
  path: datasetPath,
  empty: fc.boolean(),
  mode: fc.oneof(
    { weight: 10, arbitrary: fc.integer({ min: 0, max: 0o7777 }) },
    { weight: 1, arbitrary: fc.constantFrom(-1, 0o10000, 1.5) }
  )
});

let datasetCounter = 0;

test('POST .../datasets/:name/versions: file paths read back equal in the manifest, or a 400 names the field', async () => {
  await check(
    fc.asyncProperty(fc.array(manifestFile, { minLength: 1, maxLength: 6 }), async (files) => {
      const fields: FieldVerdict[] = [];
      files.forEach((file, index) => {
        const duplicate = files.findIndex((other) => other.path === file.path) < index;
        // A path that is also another file's folder (`a` and `a/b`) cannot be written out.
        const nested = files.some(
          (other) => other.path !== file.path && (file.path.startsWith(`${other.path}/`) || other.path.startsWith(`${file.path}/`))
        );
        const pathVerdict: Verdict =
          !isRelativePath(file.path) || duplicate || nested ? 'invalid' : hasLoneSurrogate(file.path) ? 'either' : 'valid';
        fields.push({ path: `body.files.${index}.path`, verdict: pathVerdict });
        fields.push({
          path: `body.files.${index}.mode`,
          verdict: Number.isInteger(file.mode) && file.mode >= 0 && file.mode <= 0o7777 ? 'valid' : 'invalid'
        });
      });
      // A nested pair is refused naming either file; the verdict above marks both.
      const manifest = files.map((file) => ({
        path: file.path,
        size: file.empty ? 0 : CONTENT.length,
        mode: file.mode,
        chunks: file.empty ? [] : [[CONTENT_HASH, CONTENT.length]]
      }));
      const name = `ds-${++datasetCounter}`;
      const answer = await post(`/api/projects/${PROJECT}/datasets/${name}/versions`, { files: manifest, message: 'property' });
      if (!expectAnswer(answer, fields, 201, 'POST /api/projects/:project/datasets/:name/versions')) return;
      const version = answer.body.version;
      const read = await readOk(getRaw(`/api/projects/${PROJECT}/datasets/${name}/versions/${version.label}/manifest`), 'GET manifest');
      const byCodePoint = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
      const expected = manifest
        .map((file) => ({ path: file.path, size: file.size, mode: file.mode & 0o777, chunks: file.chunks }))
        .sort((a, b) => byCodePoint(a.path, b.path));
      const got = (read.files as { path: string; size: number; mode: number; chunks: unknown[] }[]).map(({ path, size, mode, chunks }) => ({
        path,
        size,
        mode,
        chunks
      }));
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        throw new Error(`manifest read back differently:\n  sent ${JSON.stringify(expected)}\n  read ${JSON.stringify(got)}`);
      }
      const size = manifest.reduce((sum, file) => sum + file.size, 0);
      if (read.version.fileCount !== files.length || read.version.size !== size) {
        throw new Error(`version counts ${read.version.fileCount} files, ${read.version.size} bytes; sent ${files.length}, ${size}`);
      }
    })
  );
});
