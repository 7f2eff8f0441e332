/**
 * Every project is visible: a run logged by the real `mlflow` client without an experiment (so
 * in MLflow's "Default" experiment, a Runlab project) is found by switching to "Default" in the
 * Runlab panel; one click goes back to the notebooks' project; projects are created and renamed
 * from the switcher; the choice survives a reload and never rewrites the notebooks' setting
 * unless asked.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { VENV } from '../../scripts/setup.mjs';
import { expect, openRunlabPanel, runCommand, screenshot, setTheme, test, writeNotebook } from './fixtures';

const panel = (page: Page) => page.locator('#jp-runlab-panel');
const section = (page: Page) => panel(page).locator('section[aria-label="Project"]');
const currentName = (page: Page) => section(page).locator('.jp-runlab-ProjectSwitcher-button .jp-runlab-ProjectName');

async function openSwitcher(page: Page): Promise<void> {
  await section(page).locator('.jp-runlab-ProjectSwitcher-button').click();
  await expect(section(page).locator('.jp-runlab-ProjectSwitcher-popup')).toBeVisible();
}

async function switchTo(page: Page, name: string): Promise<void> {
  await openSwitcher(page);
  await section(page).locator(`.jp-runlab-ProjectOption[data-project="${name}"]`).click();
  await expect(currentName(page)).toHaveText(name);
}

async function runsPanelLists(page: Page, runName: string): Promise<void> {
  await runCommand(page, 'runlab:open-runs');
  await expect(page.locator('#jp-runlab-runs .jp-runlab-RunRow', { hasText: runName })).toBeVisible();
}

/** The notebooks' project as JupyterLab's settings hold it (what kernels receive). */
async function notebooksSetting(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const app = (window as unknown as { jupyterapp: { serviceManager: { settings: { fetch(id: string): Promise<{ raw: string }> } } } })
      .jupyterapp;
    const plugin = await app.serviceManager.settings.fetch('runlab:connection');
    // What the settings editor writes is JSON with whole-line `//` comments.
    const json = (plugin.raw || '{}')
      .split('\n')
      .filter((line) => !line.trim().startsWith('//'))
      .join('\n');
    return (JSON.parse(json) as { project?: string }).project ?? '';
  });
}

test('switch to MLflow’s Default project, back, create, rename, and keep the choice over a reload', async ({ page, runlab }) => {
  // An unchanged MLflow script: no experiment set, so its run lands in "Default".
  execFileSync(
    path.join(VENV, 'bin', 'python'),
    ['-c', 'import mlflow\nwith mlflow.start_run(run_name="mlflow-default-run"):\n    mlflow.log_metric("loss", 0.5)'],
    { env: { ...process.env, MLFLOW_TRACKING_URI: runlab.serverUrl, MLFLOW_TRACKING_TOKEN: runlab.serverToken }, stdio: 'pipe' }
  );

  await runlab.open(page, 'lab');
  await openRunlabPanel(page);
  await expect(currentName(page)).toHaveText('demo');
  await expect(section(page).locator('.jp-runlab-ProjectSwitcher-button .jp-runlab-ProjectBadge')).toHaveText('notebooks');

  // The switcher lists every project with its run count, the notebooks' one marked.
  await openSwitcher(page);
  const defaultOption = section(page).locator('.jp-runlab-ProjectOption[data-project="Default"]');
  await expect(defaultOption.locator('.jp-runlab-ProjectOption-runs')).toHaveText('1 run');
  await expect(section(page).locator('.jp-runlab-ProjectOption[data-project="demo"] .jp-runlab-ProjectBadge')).toHaveText('notebooks');
  await expect(section(page).locator('.jp-runlab-ProjectOption[data-project="demo"]')).toHaveAttribute('aria-selected', 'true');
  await defaultOption.hover();
  await screenshot(page, 'project-switcher');
  await setTheme(page, 'JupyterLab Dark');
  await expect(section(page).locator('.jp-runlab-ProjectSwitcher-popup')).toBeVisible();
  await screenshot(page, 'project-switcher-dark');
  await setTheme(page, 'JupyterLab Light');

  await defaultOption.click();
  await expect(currentName(page)).toHaveText('Default');
  await expect(section(page).locator('.jp-runlab-NotebookProject')).toContainText('Notebooks log to demo');
  await expect(section(page).locator('.jp-runlab-ProjectRuns')).toHaveText('1 run');
  await runsPanelLists(page, 'mlflow-default-run');

  // One click back to the notebooks' project: the MLflow run is not in its list.
  await openRunlabPanel(page);
  await section(page).getByRole('button', { name: 'Back to demo' }).click();
  await expect(currentName(page)).toHaveText('demo');
  await expect(section(page).locator('.jp-runlab-NotebookProject')).toHaveCount(0);
  await runCommand(page, 'runlab:open-runs');
  await expect(page.locator('#jp-runlab-runs .jp-runlab-RunRow', { hasText: 'mlflow-default-run' })).toHaveCount(0);

  // Create a project from the switcher: a bad name and a taken one are refused, plainly.
  await openRunlabPanel(page);
  await openSwitcher(page);
  await section(page).getByRole('button', { name: 'New project…' }).first().click();
  const createForm = section(page).locator('form[aria-label="New project"]');
  const createInput = createForm.locator('input');
  await createInput.fill('not a name');
  await expect(createForm.getByRole('alert')).toContainText('letters, digits');
  await createInput.fill('Default');
  await createForm.getByRole('button', { name: 'Create' }).click();
  await expect(createForm.getByRole('alert')).toContainText('A project named "Default" already exists');
  await createInput.fill('made-in-switcher');
  await createForm.getByRole('button', { name: 'Create' }).click();
  await expect(currentName(page)).toHaveText('made-in-switcher');
  await expect(createForm).toHaveCount(0);
  await openSwitcher(page);
  await expect(section(page).locator('.jp-runlab-ProjectOption[data-project="made-in-switcher"]')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Escape');
  await expect(section(page).locator('.jp-runlab-ProjectSwitcher-popup')).toHaveCount(0);

  // Rename it: to a taken name, the server's reason; then for real.
  await section(page).getByRole('button', { name: 'Rename…' }).click();
  const renameForm = section(page).locator('form[aria-label="Rename made-in-switcher"]');
  await renameForm.locator('input').fill('demo');
  await renameForm.getByRole('button', { name: 'Rename' }).click();
  await expect(renameForm.getByRole('alert')).toContainText('A project named "demo" already exists');
  await renameForm.locator('input').fill('renamed-in-switcher');
  await renameForm.getByRole('button', { name: 'Rename' }).click();
  await expect(currentName(page)).toHaveText('renamed-in-switcher');
  const { projects } = await runlab.api<{ projects: { name: string }[] }>('/api/projects');
  expect(projects.map((project) => project.name)).toContain('renamed-in-switcher');
  expect(projects.map((project) => project.name)).not.toContain('made-in-switcher');

  // A reload keeps the choice; the notebooks' setting was never touched.
  await page.reload();
  await page.locator('#jp-main-dock-panel').waitFor();
  await page.waitForFunction(() => (window as unknown as { jupyterapp?: unknown }).jupyterapp !== undefined);
  await openRunlabPanel(page);
  await expect(currentName(page)).toHaveText('renamed-in-switcher');
  await expect(section(page).locator('.jp-runlab-NotebookProject')).toContainText('Notebooks log to demo');
  expect(await notebooksSetting(page)).toBe('demo');
});

test('Switch Project… picks a project in a dialog, and "Make this the notebooks’ project" writes the setting', async ({ page, runlab }) => {
  await runlab.api('/api/projects', { method: 'POST', body: { name: 'picked-in-dialog' } });
  await runlab.open(page, 'lab');
  await openRunlabPanel(page);
  await expect(currentName(page)).toHaveText('demo');

  // The command resolves when the dialog closes: start it without waiting.
  await page.evaluate(() => {
    void (window as unknown as { jupyterapp: { commands: { execute(id: string): Promise<unknown> } } }).jupyterapp.commands.execute(
      'runlab:switch-project'
    );
  });
  const dialog = page.locator('.jp-runlab-ProjectPickerDialog');
  await expect(dialog).toBeVisible();
  await dialog.getByRole('searchbox', { name: 'Filter projects' }).fill('picked');
  await expect(dialog.locator('.jp-runlab-ProjectOption')).toHaveCount(1);
  await page.keyboard.press('Enter');
  await expect(dialog).toHaveCount(0);
  await expect(currentName(page)).toHaveText('picked-in-dialog');
  expect(await notebooksSetting(page)).toBe('demo');

  await section(page).getByRole('button', { name: 'Make this the notebooks’ project' }).click();
  await expect.poll(() => notebooksSetting(page)).toBe('picked-in-dialog');
  await expect(section(page).locator('.jp-runlab-ProjectSwitcher-button .jp-runlab-ProjectBadge')).toHaveText('notebooks');
  await expect(section(page).locator('.jp-runlab-NotebookProject')).toHaveCount(0);

  // Put the worker's setting back for the tests that follow.
  await switchTo(page, 'demo');
  await section(page).getByRole('button', { name: 'Make this the notebooks’ project' }).click();
  await expect.poll(() => notebooksSetting(page)).toBe('demo');
});

test('a running kernel logs to the new notebooks’ project as soon as the setting changes, without a restart', async ({ page, runlab }) => {
  await runlab.api('/api/projects', { method: 'POST', body: { name: 'kernel-follows' } });
  writeNotebook(path.join(runlab.rootDir, 'follows.ipynb'), ['%%track --name logged-after-the-switch\nvalue = 1']);
  await runlab.open(page, 'lab/tree/follows.ipynb');
  await openRunlabPanel(page);
  await expect(page.locator('#jp-runlab-panel .jp-runlab-Kernel')).toHaveAttribute('data-status', 'attached', { timeout: 60_000 });

  await switchTo(page, 'kernel-follows');
  await section(page).getByRole('button', { name: 'Make this the notebooks’ project' }).click();
  await expect.poll(() => notebooksSetting(page)).toBe('kernel-follows');
  // The same kernel, not restarted, runs the cell.
  await page.locator('.jp-Notebook .jp-CodeCell').first().locator('.jp-InputArea-editor').click();
  await page.keyboard.press('Shift+Enter');
  const runsIn = async (project: string) =>
    (await runlab.api<{ runs: { name: string }[] }>(`/api/runs?project=${project}&limit=50`)).runs.map((run) => run.name);
  await expect.poll(() => runsIn('kernel-follows'), { timeout: 30_000 }).toContain('logged-after-the-switch');
  expect(await runsIn('demo')).not.toContain('logged-after-the-switch');

  // Put the worker's setting back for the tests that follow.
  await switchTo(page, 'demo');
  await section(page).getByRole('button', { name: 'Make this the notebooks’ project' }).click();
  await expect.poll(() => notebooksSetting(page)).toBe('demo');
});
