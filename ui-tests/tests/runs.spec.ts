/**
 * Run tracking as a user sees it: a %%track cell's run appears live in the Runs panel and its
 * chart grows; two runs compared with "only differences" and a notebook diff; an old run's
 * notebook version opened read-only and restored. The snapshot commits are checked with git.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { expect, runCommand, screenshot, setTheme, test, writeNotebook } from './fixtures';

interface IRun {
  id: string;
  name: string;
  projectId: string;
  snapshot: { commit: string } | null;
}

async function openRunsPanel(page: Page): Promise<void> {
  await runCommand(page, 'runlab:open-runs');
  await expect(page.locator('#jp-runlab-runs')).toBeVisible();
}

test('a %%track cell appears live in the Runs panel and its chart grows', async ({ page, runlab }) => {
  fs.writeFileSync(path.join(runlab.rootDir, 'helpers_demo.py'), 'def schedule(step):\n    return 1 / (step + 1)\n');
  writeNotebook(path.join(runlab.rootDir, 'live.ipynb'), [
    'import helpers_demo',
    '%%track --name live-demo --param lr=0.1\nimport time, runlab\nfor step in range(40):\n    runlab.metric("loss", 1 / (step + 1), step=step)\n    time.sleep(0.25)'
  ]);
  await runlab.open(page, 'lab/tree/live.ipynb');
  await runCommand(page, 'runlab:open-panel');
  await expect(page.locator('#jp-runlab-panel .jp-runlab-Kernel')).toHaveAttribute('data-status', 'attached', { timeout: 60_000 });
  await openRunsPanel(page);

  await page.locator('.jp-Notebook .jp-CodeCell').first().locator('.jp-InputArea-editor').click();
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.press('Shift+Enter');

  const row = page.locator('.jp-runlab-RunRow', { hasText: 'live-demo' });
  await expect(row).toHaveAttribute('data-status', 'running', { timeout: 30_000 });
  await row.locator('.jp-runlab-RunRow-main').click();

  const view = page.locator('.jp-runlab-RunView[data-status]');
  const chart = view.locator('.jp-runlab-Chart[data-metric="loss"]');
  await expect(chart).toBeVisible({ timeout: 30_000 });
  const pointsShown = async () =>
    Number(/([\d,]+) points/.exec((await chart.locator('.jp-runlab-ChartNote').textContent()) ?? '')?.[1].replace(/,/g, '') ?? 0);
  await expect.poll(pointsShown, { timeout: 20_000 }).toBeGreaterThan(0);
  const early = await pointsShown();
  await expect.poll(pointsShown, { timeout: 20_000 }).toBeGreaterThan(early);
  await screenshot(page, 'run-live');

  await expect(view).toHaveAttribute('data-status', 'finished', { timeout: 30_000 });
  const runId0 = (await view.getAttribute('data-run-id'))!;
  const stored = await runlab.api<{ total: number }>(`/api/runs/${runId0}/metrics/loss?maxPoints=1000`);
  expect(stored.total).toBe(40);
  await expect(chart.locator('.jp-runlab-ChartNote')).toContainText('40 points');
  // A metric logged once (%%track's duration) is one point, drawn as a dot, not an empty chart.
  const single = view.locator('.jp-runlab-Chart[data-metric="duration_s"]');
  await expect(single.locator('figcaption')).toContainText('· 1 point');
  await expect(single.locator('.jp-runlab-IsolatedPoint')).toHaveCount(1);
  await expect(view).toContainText('lr');
  // The run is pinned to the notebook: a real commit in the project's repository.
  await expect(view.locator('[aria-label="Notebook version"] code')).toBeVisible();
  const runId = (await view.getAttribute('data-run-id'))!;
  const run = await runlab.api<IRun>(`/api/runs/${runId}`);
  const gitDir = path.join(runlab.dataDir, 'projects', `${run.projectId}.git`);
  const show = execFileSync('git', ['--git-dir', gitDir, 'show', `${run.snapshot!.commit}:live.ipynb`], { encoding: 'utf8' });
  expect(show).toContain('%%track --name live-demo');
  // …with the local module the kernel had imported.
  const module = execFileSync('git', ['--git-dir', gitDir, 'show', `${run.snapshot!.commit}:helpers_demo.py`], { encoding: 'utf8' });
  expect(module).toContain('def schedule(step)');
  await screenshot(page, 'run-finished');
});

/**
 * The contrast ratio (WCAG) of a cell's text on what is painted behind it: the cell's and its
 * ancestors' backgrounds composited in order, so translucent tints count as the user sees them.
 */
async function textContrast(cell: Locator): Promise<number> {
  return cell.evaluate((node) => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const context = canvas.getContext('2d', { willReadFrequently: true })!;
    const paint = (color: string) => {
      context.fillStyle = '#010203';
      context.fillStyle = color;
      if (context.fillStyle === '#010203' && color !== 'rgb(1, 2, 3)') {
        throw new Error(`the canvas cannot paint ${color}`);
      }
      context.fillRect(0, 0, 1, 1);
      return [...context.getImageData(0, 0, 1, 1).data.slice(0, 3)];
    };
    const layers: string[] = [];
    for (let element: Element | null = node; element; element = element.parentElement) {
      layers.unshift(getComputedStyle(element).backgroundColor);
    }
    let background = paint('#ffffff');
    for (const layer of layers) {
      background = paint(layer);
    }
    const text = paint(getComputedStyle(node).color);
    const luminance = ([r, g, b]: number[]) => {
      const linear = (c: number) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
      return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    };
    const [light, dark] = [luminance(text), luminance(background)].sort((x, y) => y - x);
    return (light + 0.05) / (dark + 0.05);
  });
}

test('compare two runs: only differences, overlaid charts, notebook cell diff', async ({ page, runlab }) => {
  const created: IRun[] = [];
  for (const [name, lr, source, valLoss, f1] of [
    ['baseline', '0.1', 'lr = 0.1\ntrain(lr)', 0.42, 0.81],
    ['tuned', '0.01', 'lr = 0.01\ntrain(lr)', 0.35, 0.78]
  ] as const) {
    const run = await runlab.api<IRun>('/api/runs', {
      method: 'POST',
      body: { project: 'demo', name, params: { lr, batch: '32' }, notebookPath: 'train.ipynb' }
    });
    await runlab.api(`/api/runs/${run.id}/log`, {
      method: 'POST',
      body: {
        idempotencyKey: `ui-${run.id}`,
        metrics: [
          ...Array.from({ length: 50 }, (_, step) => ({ key: 'acc', value: Number(lr) * step, step })),
          // Single-value metrics, one point per run: what runlab.log({...}) at the end of a run records.
          { key: 'val_loss', value: valLoss, step: 0 },
          { key: 'f1', value: f1, step: 0 },
          { key: 'epochs', value: 3, step: 0 }
        ]
      }
    });
    await runlab.api(`/api/runs/${run.id}/snapshot`, {
      method: 'POST',
      body: {
        notebookPath: 'train.ipynb',
        notebook: {
          cells: [
            { cell_type: 'code', source: 'import model', metadata: {}, outputs: [], execution_count: null },
            { cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null }
          ],
          metadata: {},
          nbformat: 4,
          nbformat_minor: 5
        }
      }
    });
    await runlab.api(`/api/runs/${run.id}`, { method: 'PATCH', body: { status: 'finished' } });
    created.push(run);
  }
  await runlab.open(page, 'lab');
  await openRunsPanel(page);
  for (const run of created) {
    await page.locator(`.jp-runlab-RunRow[data-run-id="${run.id}"] input[type=checkbox]`).check();
  }
  await page.locator('.jp-runlab-CompareButton').click();

  const compare = page.locator('.jp-runlab-CompareView');
  const row = (id: string) => compare.locator(`[data-row="${id}"]`);
  // Only differences by default: every row the runs share is hidden, run facts included.
  await expect(compare.getByLabel('Only differences')).toBeChecked();
  await expect(row('params.lr')).toContainText('0.01');
  await expect(row('run.snapshot')).toBeVisible();
  for (const identical of ['params.batch', 'run.status', 'run.notebook', 'metrics.epochs']) {
    await expect(row(identical)).toHaveCount(0);
  }
  await expect(compare.locator('.jp-runlab-CompareSummary')).toHaveText('4 identical rows hidden');

  // A single-value metric is a number in the table, the best highlighted; lowest for a loss…
  await expect(row('metrics.val_loss')).toHaveAttribute('data-metric-kind', 'value');
  await expect(row('metrics.val_loss').locator('td[data-best]')).toHaveCount(1);
  await expect(row('metrics.val_loss').locator('td[data-best]')).toContainText('0.35');
  await expect(row('metrics.val_loss').locator('th')).toHaveAttribute('title', /Best is the lowest/);
  // …highest for anything else.
  await expect(row('metrics.f1').locator('td[data-best]')).toHaveCount(1);
  await expect(row('metrics.f1').locator('td[data-best]')).toContainText('0.81');
  await expect(row('metrics.f1').locator('th')).toHaveAttribute('title', /Best is the highest/);
  // Neither gets a chart of one dot per run; the curve does, overlaid, and its latest value is a row.
  await expect(compare.locator('.jp-runlab-Chart[data-metric="val_loss"]')).toHaveCount(0);
  await expect(compare.locator('.jp-runlab-Chart[data-metric="f1"]')).toHaveCount(0);
  await expect(compare.locator('.jp-runlab-Chart')).toHaveCount(1);
  await expect(compare.locator('.jp-runlab-Chart[data-metric="acc"] .recharts-line')).toHaveCount(2);
  await expect(row('metrics.acc')).toHaveAttribute('data-metric-kind', 'latest');
  await expect(row('metrics.acc').locator('td[data-best]')).toContainText('4.9');

  const diff = compare.locator('.jp-runlab-NotebookDiff');
  await expect(diff).toContainText('1 cell(s) differ');
  await expect(diff.locator('[data-kind="changed"] .jp-runlab-mod-removed')).toContainText('lr = 0.1');
  await expect(diff.locator('[data-kind="changed"] .jp-runlab-mod-added')).toContainText('lr = 0.01');
  expect(await textContrast(row('metrics.val_loss').locator('td[data-best]'))).toBeGreaterThanOrEqual(4.5);
  await screenshot(page, 'compare');

  // The toggle still shows everything: the shared rows come back, with nothing best among equals.
  await compare.getByLabel('Only differences').uncheck();
  await expect(row('params.batch')).toContainText('32');
  await expect(row('run.status')).toContainText('finished');
  await expect(row('run.notebook')).toContainText('train.ipynb');
  await expect(row('metrics.epochs')).toBeVisible();
  await expect(row('metrics.epochs').locator('td[data-best]')).toHaveCount(0);
  await expect(row('params.lr')).toContainText('0.01');
  await screenshot(page, 'compare-all');
  await compare.getByLabel('Only differences').check();
  await expect(row('params.batch')).toHaveCount(0);

  // The dark theme: the table's text stays light on the dark background, the best value readable on its tint.
  await setTheme(page, 'JupyterLab Dark');
  const color = await row('params.lr')
    .locator('th')
    .evaluate((node) => getComputedStyle(node).color);
  const [r, g, b] = color.match(/\d+/g)!.map(Number);
  expect((r + g + b) / 3).toBeGreaterThan(120);
  expect(await textContrast(row('metrics.val_loss').locator('td[data-best]'))).toBeGreaterThanOrEqual(4.5);
  expect(await textContrast(row('params.lr').locator('td').first())).toBeGreaterThanOrEqual(4.5);
  await screenshot(page, 'compare-dark');
  await compare.getByLabel('Only differences').uncheck();
  expect(await textContrast(row('params.lr').locator('td').first())).toBeGreaterThanOrEqual(4.5);
  await screenshot(page, 'compare-all-dark');
  await setTheme(page, 'JupyterLab Light');
});

test('compare two identical runs: it says nothing differs, and the toggle shows every row', async ({ page, runlab }) => {
  const runIds: string[] = [];
  for (const name of ['repeat-1', 'repeat-2']) {
    const run = await runlab.api<IRun>('/api/runs', {
      method: 'POST',
      body: { project: 'compare-same', name, params: { lr: '0.1' }, tags: { team: 'vision' }, notebookPath: 'same.ipynb' }
    });
    await runlab.api(`/api/runs/${run.id}/log`, {
      method: 'POST',
      body: { idempotencyKey: `ui-same-${run.id}`, metrics: [{ key: 'acc', value: 0.93, step: 0 }] }
    });
    await runlab.api(`/api/runs/${run.id}`, { method: 'PATCH', body: { status: 'finished' } });
    runIds.push(run.id);
  }
  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:compare-runs', { runIds });

  const compare = page.locator('.jp-runlab-CompareView');
  await expect(compare.locator('.jp-runlab-CompareSame')).toContainText('These runs have the same params, tags and metrics');
  await expect(compare.locator('.jp-runlab-CompareTable')).toHaveCount(0);
  // A metric of one point per run is not charted, and the view says where it is instead.
  await expect(compare.locator('.jp-runlab-Chart')).toHaveCount(0);
  await expect(compare.locator('.jp-runlab-CompareSingleNote')).toContainText('acc');
  await screenshot(page, 'compare-same');

  await compare.getByLabel('Only differences').uncheck();
  await expect(compare.locator('.jp-runlab-CompareSame')).toHaveCount(0);
  for (const [id, value] of [
    ['run.status', 'finished'],
    ['run.notebook', 'same.ipynb'],
    ['params.lr', '0.1'],
    ['tags.team', 'vision'],
    ['metrics.acc', '0.93']
  ]) {
    await expect(compare.locator(`[data-row="${id}"] td`)).toHaveText([value, value]);
  }
  await expect(compare.locator('td[data-best]')).toHaveCount(0);
});

test("an old run's notebook version opens read-only and can be restored", async ({ page, runlab }) => {
  const notebookPath = 'restore-me.ipynb';
  const run = await runlab.api<IRun>('/api/runs', { method: 'POST', body: { project: 'demo', name: 'old-version', notebookPath } });
  await runlab.api(`/api/runs/${run.id}/snapshot`, {
    method: 'POST',
    body: {
      notebookPath,
      notebook: {
        cells: [
          { cell_type: 'markdown', source: '# Old heading\n\nSome **bold** notes.', metadata: {} },
          { cell_type: 'code', source: 'print("the old version")', metadata: {}, outputs: [], execution_count: null }
        ],
        metadata: {},
        nbformat: 4,
        nbformat_minor: 5
      }
    }
  });
  await runlab.api(`/api/runs/${run.id}`, { method: 'PATCH', body: { status: 'finished' } });
  writeNotebook(path.join(runlab.rootDir, notebookPath), ['print("the new version")']);

  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:open-run', { runId: run.id });
  await page.getByRole('button', { name: 'Open this version' }).click();
  const snapshot = page.locator('.jp-runlab-SnapshotView');
  await expect(snapshot).toContainText('the old version');
  await expect(snapshot).toContainText('read-only');
  // Markdown cells read as they do in the notebook, not as source.
  await expect(snapshot.locator('.jp-runlab-SnapshotMarkdown h1')).toHaveText(/Old heading/);
  await expect(snapshot.locator('.jp-runlab-SnapshotMarkdown strong')).toHaveText('bold');
  await expect(snapshot).not.toContainText('**bold**');
  await screenshot(page, 'snapshot-view');

  await snapshot.getByRole('button', { name: 'Restore…' }).click();
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Restore' }).click();
  await expect
    .poll(() => fs.readFileSync(path.join(runlab.rootDir, notebookPath), 'utf8'), { timeout: 15_000 })
    .toContain('the old version');
});

test('NaN and ±Infinity points leave gaps in a run chart; min and max skip them', async ({ page, runlab }) => {
  const run = await runlab.api<IRun>('/api/runs', { method: 'POST', body: { project: 'nonfinite-ui', name: 'diverged' } });
  await runlab.api(`/api/runs/${run.id}/log`, {
    method: 'POST',
    body: {
      idempotencyKey: 'ui-nonfinite-1',
      metricColumns: {
        keys: ['loss'],
        keyIndex: [0, 0, 0, 0, 0, 0, 0, 0],
        values: [1, 0.8, 'NaN', 'NaN', 0.5, 0.4, 'Infinity', 0.3],
        steps: [0, 1, 2, 3, 4, 5, 6, 7],
        timestamps: [1, 2, 3, 4, 5, 6, 7, 8]
      }
    }
  });
  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:open-run', { runId: run.id });
  const chart = page.locator(`.jp-runlab-RunView[data-run-id="${run.id}"] .jp-runlab-Chart[data-metric="loss"]`);
  await expect(chart).toBeVisible({ timeout: 30_000 });
  await expect(chart.locator('figcaption')).toContainText('latest 0.3');
  await expect(chart.locator('figcaption')).toContainText('min 0.3 · max 1 · 8 points');
  // One line broken in three pieces: each piece starts with its own "M" (move-to).
  const line = chart.locator('.recharts-line-curve');
  await expect.poll(async () => ((await line.getAttribute('d')) ?? '').split('M').length - 1, { timeout: 10_000 }).toBe(3);
  // The point after the last gap has no line to show it: a dot does.
  await expect(chart.locator('.jp-runlab-IsolatedPoint')).toHaveCount(1);
  await screenshot(page, 'run-nonfinite-gaps');
  await setTheme(page, 'JupyterLab Dark');
  await expect(line).toBeVisible();
  await screenshot(page, 'run-nonfinite-gaps-dark');
  await setTheme(page, 'JupyterLab Light');
});
