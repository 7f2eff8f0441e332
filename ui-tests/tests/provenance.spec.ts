/**
 * Provenance as a user sees it: raw@v1 → data run → clean@v1 → training run → model.pkl,
 * opened from the training run's view, drawn left to right; clicking a dataset version
 * re-centres the graph (and reveals it in the Datasets panel), clicking a run opens it.
 */
import { commitDataset, expect, putArtifact, runCommand, screenshot, setTheme, test } from './fixtures';

interface IRun {
  id: string;
  name: string;
}

test('the lineage of a model, left to right, and clicking through it', async ({ page, runlab }) => {
  const raw = await commitDataset(runlab, 'demo', 'raw', [{ path: 'raw.csv', content: 'x,y\n1,2\n3,4\n' }], {
    message: 'export from the warehouse'
  });
  const dataRun = await runlab.api<IRun>('/api/runs', { method: 'POST', body: { project: 'demo', name: 'prepare-data' } });
  await runlab.api(`/api/runs/${dataRun.id}/log`, {
    method: 'POST',
    body: { idempotencyKey: `in-${dataRun.id}`, inputs: [{ kind: 'dataset', name: 'raw@v1', digest: null }] }
  });
  const clean = await commitDataset(runlab, 'demo', 'clean', [{ path: 'clean.csv', content: 'x,y\n1,2\n' }], {
    runId: dataRun.id,
    message: 'dropped outliers'
  });
  await runlab.api(`/api/runs/${dataRun.id}`, { method: 'PATCH', body: { status: 'finished' } });
  const trainRun = await runlab.api<IRun>('/api/runs', {
    method: 'POST',
    body: { project: 'demo', name: 'train-model', params: { C: '1.0' } }
  });
  await runlab.api(`/api/runs/${trainRun.id}/log`, {
    method: 'POST',
    body: { idempotencyKey: `in-${trainRun.id}`, inputs: [{ kind: 'dataset', name: 'clean@v1', digest: null }] }
  });
  await putArtifact(runlab, trainRun.id, 'model.pkl', 'pretend this is a pickled model');
  await runlab.api(`/api/runs/${trainRun.id}`, { method: 'PATCH', body: { status: 'finished' } });

  const chain = [
    `dataset_version:${raw.id}`,
    `run:${dataRun.id}`,
    `dataset_version:${clean.id}`,
    `run:${trainRun.id}`,
    `artifact:${trainRun.id}/model.pkl`
  ];

  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:open-run', { runId: trainRun.id });
  const runView = page.locator(`.jp-runlab-RunView[data-run-id="${trainRun.id}"]`);
  await runView.getByRole('button', { name: 'Provenance', exact: true }).click();

  const view = page.locator('.jp-runlab-ProvView');
  const graph = view.locator('svg.jp-runlab-ProvGraph');
  await expect(graph).toHaveAttribute('data-root', `run:${trainRun.id}`);
  const nodes = graph.locator('.jp-runlab-ProvNode');
  await expect(nodes).toHaveCount(5);
  await expect(graph.locator('.jp-runlab-ProvEdge')).toHaveCount(4);
  for (let index = 1; index < chain.length; index++) {
    await expect(graph.locator(`.jp-runlab-ProvEdge[data-from="${chain[index - 1]}"][data-to="${chain[index]}"]`)).toHaveCount(1);
  }
  // Upstream on the left: each node starts right of the one it was made from.
  const lefts: number[] = [];
  for (const ref of chain) {
    const box = await graph.locator(`.jp-runlab-ProvNode[data-ref="${ref}"]`).boundingBox();
    lefts.push(box!.x);
  }
  for (let index = 1; index < lefts.length; index++) {
    expect(lefts[index]).toBeGreaterThan(lefts[index - 1]);
  }
  await expect(graph.locator(`.jp-runlab-ProvNode[data-ref="run:${trainRun.id}"]`)).toHaveClass(/jp-mod-root/);
  await expect(graph.locator(`.jp-runlab-ProvNode[data-ref="${chain[0]}"]`)).toHaveAttribute('data-label', 'raw@v1');
  await expect(view.locator('.jp-runlab-ProvDetails')).toContainText('train-model');
  await screenshot(page, 'provenance-light');

  // A dataset version: the graph re-centres on it, and the Datasets panel shows it.
  await graph.locator(`.jp-runlab-ProvNode[data-ref="${chain[0]}"]`).click();
  await expect(graph).toHaveAttribute('data-root', chain[0]);
  await expect(graph.locator(`.jp-runlab-ProvNode[data-ref="${chain[0]}"]`)).toHaveClass(/jp-mod-root/);
  await expect(view.locator('h1')).toHaveText('Provenance of raw@v1');
  await expect(
    page.locator('#jp-runlab-datasets .jp-runlab-DatasetVersion.jp-mod-revealed[data-dataset="raw"][data-version="v1"]')
  ).toBeVisible();
  // Still the whole chain: everything downstream of raw@v1.
  await expect(nodes).toHaveCount(5);

  // Keyboard: Back returns to the training run's graph; nodes take Enter.
  await view.getByRole('button', { name: 'Back' }).click();
  await expect(graph).toHaveAttribute('data-root', `run:${trainRun.id}`);
  await graph.locator(`.jp-runlab-ProvNode[data-ref="${chain[4]}"]`).focus();
  await page.keyboard.press('Enter');
  await expect(graph).toHaveAttribute('data-root', chain[4]);
  await expect(view.locator('.jp-runlab-ProvDetails').getByRole('button', { name: 'Download' })).toBeVisible();

  // A run: its run view opens.
  await graph.locator(`.jp-runlab-ProvNode[data-ref="run:${dataRun.id}"]`).click();
  await expect(page.locator(`.jp-runlab-RunView[data-run-id="${dataRun.id}"]`)).toBeVisible();
  await expect(page.locator(`.jp-runlab-RunView[data-run-id="${dataRun.id}"] h1`)).toContainText('prepare-data');

  // The dark theme.
  await page.getByRole('tab', { name: /Provenance/ }).click();
  await setTheme(page, 'JupyterLab Dark');
  const labelColor = await graph
    .locator('.jp-runlab-ProvLabel')
    .first()
    .evaluate((node) => getComputedStyle(node).fill);
  const [r, g, b] = labelColor.match(/\d+/g)!.map(Number);
  expect((r + g + b) / 3).toBeGreaterThan(150);
  await screenshot(page, 'provenance-dark');
  await setTheme(page, 'JupyterLab Light');
});

test('a dataset version opens its provenance from the Datasets panel; without lineage the view says so', async ({ page, runlab }) => {
  const lonely = await commitDataset(runlab, 'demo', 'lonely', [{ path: 'a.txt', content: 'alone' }]);
  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:open-datasets');
  const panel = page.locator('#jp-runlab-datasets');
  await panel.locator('.jp-runlab-Dataset[data-dataset="lonely"] .jp-runlab-Dataset-head').click();
  await panel
    .locator('.jp-runlab-DatasetVersion[data-dataset="lonely"][data-version="v1"]')
    .getByRole('button', { name: 'Provenance' })
    .click();
  const view = page.locator('.jp-runlab-ProvView');
  await expect(view.locator('svg.jp-runlab-ProvGraph')).toHaveAttribute('data-root', `dataset_version:${lonely.id}`);
  await expect(view).toContainText('Nothing is recorded as made from or used by lonely@v1 yet');
});
