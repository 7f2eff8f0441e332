/**
 * Runlab's views are reachable where people look: the command palette opens a run by its id (as
 * an MLflow "View run" link or the server's page gives it), and the server's own address says
 * what it is instead of answering JSON.
 */
import { expect, runCommand, screenshot, test } from './fixtures';

interface IRun {
  id: string;
  name: string;
}

test('the command palette opens a run by its id', async ({ page, runlab }) => {
  const run = await runlab.api<IRun>('/api/runs', { method: 'POST', body: { project: 'demo', name: 'from-a-link' } });
  await runlab.open(page, 'lab');
  // The command, not its key: a key pressed while JupyterLab restores its layout may go nowhere.
  await runCommand(page, 'apputils:activate-command-palette');
  const palette = page.locator('#command-palette');
  await expect(palette.locator('input')).toBeVisible();
  await palette.locator('input').fill('Open Run by Id');
  await palette.locator('.lm-CommandPalette-item', { hasText: 'Open Run by Id' }).first().click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('Run id');
  await dialog.locator('input').fill(`  ${run.id} `);
  await dialog.locator('input').press('Enter');
  const view = page.locator(`.jp-runlab-RunView[data-run-id="${run.id}"]`);
  await expect(view).toBeVisible();
  await expect(view).toContainText('from-a-link');
  await screenshot(page, 'open-run-by-id');
});

test("the companion server's address shows what it is, and a run link's id", async ({ page, runlab }) => {
  await page.goto(`${runlab.serverUrl}/#/experiments/0/runs/0123abcd`);
  await expect(page.locator('h1')).toHaveText('Runlab companion server');
  await expect(page.locator('#run-id')).toHaveText('0123abcd');
  await expect(page.locator('#run')).toContainText('Open Run by Id');
  await page.goto(`${runlab.serverUrl}/`);
  await expect(page.locator('#run')).toBeHidden();
});

test("the palette's Runlab group lists every view, and the shortcuts open the common ones", async ({ page, runlab }) => {
  await runlab.open(page, 'lab');
  // The command, not its key: a key pressed while JupyterLab restores its layout may go nowhere.
  await runCommand(page, 'apputils:activate-command-palette');
  const palette = page.locator('#command-palette');
  await expect(palette.locator('input')).toBeVisible();
  await palette.locator('input').fill('');
  // The palette lists headers and items in order: the Runlab group is what follows its header.
  const entries = await palette.locator('.lm-CommandPalette-header, .lm-CommandPalette-item').evaluateAll((nodes) =>
    nodes.map((node) => ({
      header: node.classList.contains('lm-CommandPalette-header'),
      text: (node.querySelector('.lm-CommandPalette-itemLabel') ?? node).textContent?.trim() ?? ''
    }))
  );
  const start = entries.findIndex((entry) => entry.header && entry.text === 'Runlab');
  expect(start).toBeGreaterThanOrEqual(0);
  const end = entries.findIndex((entry, index) => index > start && entry.header);
  const runlabItems = entries.slice(start + 1, end === -1 ? undefined : end).map((entry) => entry.text);
  for (const view of [
    'Show Panel',
    'Show Runs',
    'Runs Table',
    'Open Run by Id…',
    'Show Datasets',
    'Show Provenance',
    'Switch Project…',
    'Sign In…',
    'Open Settings'
  ]) {
    expect(runlabItems).toContain(view);
  }
  // No label repeats the group's name.
  expect(runlabItems.filter((label) => label.startsWith('Runlab:'))).toEqual([]);
  await page.keyboard.press('Escape');

  await page.locator('.jp-LabShell').click({ position: { x: 600, y: 400 } });
  await page.keyboard.press('Control+Alt+T');
  await expect(page.locator('#runlab-runs-table')).toBeVisible();
  await page.keyboard.press('Control+Alt+D');
  await expect(page.locator('#jp-runlab-datasets')).toBeVisible();
  await page.keyboard.press('Control+Alt+R');
  await expect(page.locator('#jp-runlab-runs')).toBeVisible();
});
