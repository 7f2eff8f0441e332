/**
 * Runlab's views are reachable where people look: the command palette opens a run by its id (as
 * an MLflow "View run" link or the server's page gives it), and the server's own address says
 * what it is instead of answering JSON.
 */
import { expect, screenshot, test } from './fixtures';

interface IRun {
  id: string;
  name: string;
}

test('the command palette opens a run by its id', async ({ page, runlab }) => {
  const run = await runlab.api<IRun>('/api/runs', { method: 'POST', body: { project: 'demo', name: 'from-a-link' } });
  await runlab.open(page, 'lab');
  await page.keyboard.press('Control+Shift+C');
  const palette = page.locator('#command-palette');
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
