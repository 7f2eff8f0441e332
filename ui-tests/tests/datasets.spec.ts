/**
 * Versioned datasets as a user sees them: the notebook toolbar's picker pins a version in the
 * notebook's metadata (it survives closing and re-opening) and inserts a loading cell; the
 * Datasets panel lists versions with what changed, live; the diff view lists the changed files.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { SERVER_CLI } from '../../scripts/launch.mjs';
import { commitDataset, expect, openFile, runCommand, screenshot, setTheme, test, writeNotebook } from './fixtures';

const IRIS_V1 = [
  { path: 'iris.csv', content: 'sepal,petal,species\n5.1,1.4,setosa\n' },
  { path: 'notes/README.md', content: '# Iris\n' },
  { path: 'old.txt', content: 'to be removed' }
];
const IRIS_V2 = [
  { path: 'iris.csv', content: 'sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n' },
  { path: 'notes/README.md', content: '# Iris\n' },
  { path: 'extra.csv', content: 'a,b\n1,2\n' }
];

async function openPicker(page: Page) {
  await page.locator('.jp-NotebookPanel-toolbar .jp-runlab-PinsButton').click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('.jp-runlab-Picker')).toBeVisible();
  return dialog;
}

test('pin a dataset version in a notebook, insert its loading cell, browse versions and diff them', async ({ page, runlab }) => {
  // Before any dataset exists, the panel says how to make one; the first commit appears live.
  expect((await runlab.api<{ datasets: unknown[] }>('/api/projects/demo/datasets')).datasets).toEqual([]);
  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:open-datasets');
  const emptyPanel = page.locator('#jp-runlab-datasets');
  await expect(emptyPanel.locator('.jp-runlab-Empty')).toContainText('runlab.dataset("name").commit("path/")');
  await expect(emptyPanel.locator('.jp-runlab-Empty')).toContainText('runlab data add name path');
  await screenshot(page, 'datasets-empty-light');
  await commitDataset(runlab, 'demo', 'iris', IRIS_V1, { message: 'first export' });
  await commitDataset(runlab, 'demo', 'iris', IRIS_V2, { message: 'more flowers' });
  await commitDataset(runlab, 'demo', 'adult', [{ path: 'adult.csv', content: 'age\n39\n' }]);
  await expect(emptyPanel.locator('.jp-runlab-Dataset')).toHaveCount(2);
  const notebookFile = path.join(runlab.rootDir, 'pinned.ipynb');
  writeNotebook(notebookFile, ['print("hello")', 'import runlab.datasets\nprint("pins:", runlab.datasets.pins())']);

  await runlab.open(page, 'lab/tree/pinned.ipynb');
  const button = page.locator('.jp-NotebookPanel-toolbar .jp-runlab-PinsButton');
  await expect(button).toHaveText('Data');

  // Pick iris, its older version, and pin it.
  let dialog = await openPicker(page);
  await dialog.getByLabel('Dataset').selectOption('iris');
  const v1 = dialog.locator('.jp-runlab-PickerVersion[data-version="v1"]');
  await expect(dialog.locator('.jp-runlab-PickerVersion')).toHaveCount(2);
  await expect(dialog.locator('.jp-runlab-PickerVersion').first()).toHaveAttribute('data-version', 'v2');
  await expect(dialog.locator('.jp-runlab-PickerVersion[data-version="v2"]')).toContainText('more flowers');
  await v1.click();
  await expect(v1).toHaveAttribute('aria-selected', 'true');
  await screenshot(page, 'datasets-picker-light');
  await dialog.getByRole('button', { name: 'Pin for this notebook' }).click();
  await expect(button).toHaveText('Data: iris@v1');

  // Saved, closed and re-opened: the pin is in the file and in the toolbar.
  await runCommand(page, 'docmanager:save');
  await expect.poll(() => JSON.parse(fs.readFileSync(notebookFile, 'utf8')).metadata.runlab?.datasets).toEqual({ iris: 'v1' });
  await runCommand(page, 'application:close-all');
  await expect(page.locator('.jp-NotebookPanel')).toHaveCount(0);
  await openFile(page, 'pinned.ipynb');
  await expect(page.locator('.jp-NotebookPanel-toolbar .jp-runlab-PinsButton')).toHaveText('Data: iris@v1');

  // The kernel was handed the pins when the client attached.
  await runCommand(page, 'runlab:open-panel');
  await expect(page.locator('#jp-runlab-panel .jp-runlab-Kernel')).toHaveAttribute('data-status', 'attached', { timeout: 60_000 });
  const pinsCell = page.locator('.jp-Notebook .jp-CodeCell').nth(1);
  await pinsCell.locator('.jp-InputArea-editor').click();
  await page.keyboard.press('Control+Enter');
  await expect(pinsCell.locator('.jp-OutputArea-output')).toHaveText("pins: {'iris': 'v1'}");

  // Insert the loading cell for the pinned version, below the active cell.
  await page.locator('.jp-Notebook .jp-Cell').first().click();
  dialog = await openPicker(page);
  await expect(dialog.getByLabel('Dataset')).toHaveValue('iris');
  await expect(dialog.locator('.jp-runlab-PickerVersion[aria-selected="true"]')).toHaveAttribute('data-version', 'v1');
  await expect(dialog.locator('.jp-runlab-Pin[data-dataset="iris"]')).toContainText('iris@v1');
  await dialog.getByRole('button', { name: 'Insert snippet' }).click();
  const cells = page.locator('.jp-Notebook .jp-Cell');
  await expect(cells).toHaveCount(3);
  await expect(cells.nth(1).locator('.jp-InputArea-editor')).toContainText('iris_path = runlab.dataset("iris@v1").path()');
  await expect(cells.nth(1).locator('.jp-InputArea-editor')).toContainText('import runlab');

  // Unpin from the dialog: the toolbar and the kernel follow.
  dialog = await openPicker(page);
  await dialog.getByRole('button', { name: 'Unpin iris' }).click();
  await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
  await expect(page.locator('.jp-NotebookPanel-toolbar .jp-runlab-PinsButton')).toHaveText('Data');
  const movedPinsCell = page.locator('.jp-Notebook .jp-CodeCell').nth(2);
  await movedPinsCell.locator('.jp-InputArea-editor').click();
  await page.keyboard.press('Control+Enter');
  await expect(movedPinsCell.locator('.jp-OutputArea-output')).toHaveText('pins: {}');

  // The Datasets panel: versions with what changed since the previous one.
  await runCommand(page, 'runlab:open-datasets');
  const panel = page.locator('#jp-runlab-datasets');
  await expect(panel).toBeVisible();
  await expect(panel.locator('.jp-runlab-Dataset')).toHaveCount(2);
  await panel.locator('.jp-runlab-Dataset[data-dataset="iris"] .jp-runlab-Dataset-head').click();
  const v2Row = panel.locator('.jp-runlab-DatasetVersion[data-dataset="iris"][data-version="v2"]');
  await expect(v2Row.locator('.jp-runlab-DiffSummary')).toContainText('+1');
  await expect(v2Row.locator('.jp-runlab-DiffSummary')).toContainText('\u22121');
  await expect(v2Row.locator('.jp-runlab-DiffSummary')).toContainText('~1');
  await expect(v2Row).toContainText('3 files');
  await expect(panel.locator('.jp-runlab-DatasetVersion[data-version="v1"] .jp-runlab-DiffSummary')).toHaveText('first version');

  // Live: a version committed elsewhere appears without a reload.
  await commitDataset(runlab, 'demo', 'iris', [...IRIS_V2, { path: 'more.csv', content: 'x\n1\n' }], { message: 'live commit' });
  await expect(panel.locator('.jp-runlab-DatasetVersion[data-dataset="iris"][data-version="v3"]')).toContainText('live commit');
  await screenshot(page, 'datasets-panel-light');

  // Compare v2 with v1: the diff view lists each file.
  await v2Row.getByRole('button', { name: 'Diff…' }).click();
  await expect(v2Row.locator('select')).toHaveValue('v1');
  await v2Row.getByRole('button', { name: 'Show diff' }).click();
  const diff = page.locator('.jp-runlab-DiffView[data-from="v1"][data-to="v2"]');
  await expect(diff).toBeVisible();
  await expect(diff.locator('[data-kind="changed"] .jp-runlab-DiffFile[data-path="iris.csv"]')).toBeVisible();
  await expect(diff.locator('[data-kind="added"] .jp-runlab-DiffFile[data-path="extra.csv"]')).toBeVisible();
  await expect(diff.locator('[data-kind="removed"] .jp-runlab-DiffFile[data-path="old.txt"]')).toBeVisible();
  await expect(diff.locator('[data-kind="changed"] .jp-runlab-DiffFile')).toHaveCount(1);
  await expect(diff.locator('.jp-runlab-DiffStats')).toContainText('1 unchanged');
  await screenshot(page, 'datasets-diff-light');

  // The dark theme: the same views, readable.
  await setTheme(page, 'JupyterLab Dark');
  const color = await diff
    .locator('.jp-runlab-DiffFile-path')
    .first()
    .evaluate((node) => getComputedStyle(node).color);
  const [r, g, b] = color.match(/\d+/g)!.map(Number);
  expect((r + g + b) / 3).toBeGreaterThan(120);
  await screenshot(page, 'datasets-diff-dark');
  await openFile(page, 'pinned.ipynb');
  await openPicker(page);
  await screenshot(page, 'datasets-picker-dark');
  await page.locator('.jp-Dialog .jp-Dialog-button.jp-mod-reject').click();
  await setTheme(page, 'JupyterLab Light');
});

test('a version whose chunks fsck --repair dropped is marked damaged, until it is committed again', async ({ page, runlab }) => {
  const files = [{ path: 'fragile.csv', content: 'id,value\n' + 'row,1\n'.repeat(400) }];
  await commitDataset(runlab, 'demo', 'fragile', files, { message: 'will break' });
  // Flip a byte of the stored chunk (seeded raw, so its text is in the pack as is), then repair.
  const packs = path.join(runlab.dataDir, 'chunks', 'packs');
  const pack = fs
    .readdirSync(packs)
    .map((name) => path.join(packs, name))
    .find((file) => fs.readFileSync(file).includes('row,1\nrow,1'))!;
  const bytes = fs.readFileSync(pack);
  bytes[bytes.length - 3] ^= 0xff;
  fs.chmodSync(pack, 0o644);
  fs.writeFileSync(pack, bytes);
  const repair = spawnSync(process.execPath, [SERVER_CLI, 'fsck', '--repair', '--data-dir', runlab.dataDir], { encoding: 'utf8' });
  expect(repair.stdout).toContain('marked 1 version(s) damaged');

  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:open-datasets');
  const panel = page.locator('#jp-runlab-datasets');
  await panel.locator('.jp-runlab-Dataset[data-dataset="fragile"] .jp-runlab-Dataset-head').click();
  const v1 = panel.locator('.jp-runlab-DatasetVersion[data-dataset="fragile"][data-version="v1"]');
  await expect(v1.locator('.jp-runlab-Badge')).toHaveText('damaged');
  await screenshot(page, 'datasets-damaged-light');

  // Committing the same files again heals it: the badge goes once the panel reloads the versions.
  await commitDataset(runlab, 'demo', 'fragile', files);
  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:open-datasets');
  await panel.locator('.jp-runlab-Dataset[data-dataset="fragile"] .jp-runlab-Dataset-head').click();
  await expect(v1).toBeVisible();
  await expect(v1.locator('.jp-runlab-Badge')).toHaveCount(0);
});

test('delete a version, then the whole dataset, from the panel after confirming', async ({ page, runlab }) => {
  await commitDataset(runlab, 'demo', 'scratch', [{ path: 'a.csv', content: 'a\n1\n' }], { message: 'keep' });
  await commitDataset(runlab, 'demo', 'scratch', [{ path: 'a.csv', content: 'a\n2\n' }], { message: 'mistake' });
  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:open-datasets');
  const panel = page.locator('#jp-runlab-datasets');
  const dataset = panel.locator('.jp-runlab-Dataset[data-dataset="scratch"]');
  await dataset.locator('.jp-runlab-Dataset-head').click();
  const row = (label: string) => panel.locator(`.jp-runlab-DatasetVersion[data-dataset="scratch"][data-version="${label}"]`);

  // Cancelling deletes nothing.
  await row('v1').getByRole('button', { name: 'Delete scratch@v1' }).click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('cannot be undone');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(row('v1')).toBeVisible();

  await row('v2').getByRole('button', { name: 'Delete scratch@v2' }).click();
  await expect(dialog).toContainText('Delete scratch@v2?');
  await screenshot(page, 'datasets-delete-dialog-light');
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(row('v2')).toHaveCount(0);
  await expect(row('v1')).toBeVisible();
  await expect(dataset.locator('.jp-runlab-Dataset-facts')).toContainText('1 version');
  const versions = await runlab.api<{ versions: { number: number }[] }>('/api/projects/demo/datasets/scratch/versions');
  expect(versions.versions.map((v) => v.number)).toEqual([1]);

  await setTheme(page, 'JupyterLab Dark');
  await screenshot(page, 'datasets-panel-delete-dark');
  await setTheme(page, 'JupyterLab Light');

  await dataset.getByRole('button', { name: 'Delete dataset scratch…' }).click();
  await expect(dialog).toContainText('the dataset scratch and its 1 version');
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(dataset).toHaveCount(0);
  const left = await runlab.api<{ datasets: { name: string }[] }>('/api/projects/demo/datasets');
  expect(left.datasets.map((d) => d.name)).not.toContain('scratch');
});

test('the Datasets panel marks the version the notebook in focus pins, and the picker starts at it', async ({ page, runlab }) => {
  await commitDataset(runlab, 'demo', 'petals', IRIS_V1, { message: 'first export' });
  await commitDataset(runlab, 'demo', 'petals', IRIS_V2, { message: 'more flowers' });
  // Sorts before petals: a picker that starts at petals does so because of the pin.
  await commitDataset(runlab, 'demo', 'aardvark', [{ path: 'a.csv', content: 'a\n1\n' }]);
  writeNotebook(path.join(runlab.rootDir, 'petals-pinned.ipynb'), ['print("pinned")']);
  writeNotebook(path.join(runlab.rootDir, 'petals-other.ipynb'), ['print("other")']);

  await runlab.open(page, 'lab/tree/petals-pinned.ipynb');
  await runCommand(page, 'runlab:open-datasets');
  const panel = page.locator('#jp-runlab-datasets');
  const dataset = panel.locator('.jp-runlab-Dataset[data-dataset="petals"]');
  await dataset.locator('.jp-runlab-Dataset-head').click();
  const row = (label: string) => panel.locator(`.jp-runlab-DatasetVersion[data-dataset="petals"][data-version="${label}"]`);
  await expect(row('v2')).toBeVisible();
  await expect(dataset.locator('.jp-runlab-PinnedBadge')).toHaveCount(0);

  // Pin v1 through the picker: the panel follows the notebook's metadata while it stays open.
  const pinsButton = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar .jp-runlab-PinsButton');
  await pinsButton.click();
  let dialog = page.locator('.jp-Dialog');
  await dialog.getByLabel('Dataset').selectOption('petals');
  await dialog.locator('.jp-runlab-PickerVersion[data-version="v1"]').click();
  await dialog.getByRole('button', { name: 'Pin for this notebook' }).click();
  await expect(pinsButton).toHaveText('Data: petals@v1');

  await expect(row('v1').locator('.jp-runlab-PinnedBadge')).toHaveText('pinned here');
  await expect(row('v1')).toHaveAttribute('data-pinned', 'true');
  await expect(row('v2').locator('.jp-runlab-PinnedBadge')).toHaveCount(0);
  await expect(dataset.locator('.jp-runlab-Dataset-head .jp-runlab-PinnedBadge')).toHaveText('v1 · pinned');
  await expect(panel.locator('.jp-runlab-Dataset[data-dataset="aardvark"] .jp-runlab-PinnedBadge')).toHaveCount(0);
  await screenshot(page, 'datasets-pinned-light');

  // Another notebook in focus pins nothing: no marks; back to the first, they return.
  await openFile(page, 'petals-other.ipynb');
  await expect(pinsButton).toHaveText('Data');
  await expect(dataset.locator('.jp-runlab-PinnedBadge')).toHaveCount(0);
  await openFile(page, 'petals-pinned.ipynb');
  await expect(pinsButton).toHaveText('Data: petals@v1');
  await expect(row('v1').locator('.jp-runlab-PinnedBadge')).toHaveText('pinned here');
  await expect(row('v2').locator('.jp-runlab-PinnedBadge')).toHaveCount(0);

  // Reopened, the picker starts at the pinned dataset and version, not at the first dataset.
  await pinsButton.click();
  dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('.jp-runlab-Picker')).toBeVisible();
  await expect(dialog.getByLabel('Dataset')).toHaveValue('petals');
  await expect(dialog.locator('.jp-runlab-PickerVersion[aria-selected="true"]')).toHaveAttribute('data-version', 'v1');
  await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
  await expect(dialog).toHaveCount(0);
});
