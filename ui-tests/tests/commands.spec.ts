/**
 * Runlab's views are reachable where people look: the command palette opens a run by its id (as
 * an MLflow "View run" link or the server's page gives it), and the server's own address says
 * what it is instead of answering JSON.
 */
import { expect, runCommand, screenshot, test } from './fixtures';

interface ILabWindow {
  jupyterapp: {
    commands: {
      execute(id: string, args: object): Promise<unknown>;
      hasCommand(id: string): boolean;
      isEnabled(id: string): boolean;
      label(id: string): string;
      keyBindings: readonly { command: string; keys: readonly string[] }[];
    };
  };
}

interface IRun {
  id: string;
  name: string;
}

test('Open Run by Id asks for an id and opens the run', async ({ page, runlab }) => {
  const run = await runlab.api<IRun>('/api/runs', { method: 'POST', body: { project: 'demo', name: 'from-a-link' } });
  await runlab.open(page, 'lab');
  // Started, not awaited: the command finishes only after its dialog is answered.
  await page.evaluate(() => {
    void (window as unknown as ILabWindow).jupyterapp.commands.execute('runlab:open-run', {});
  });
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

/** Every Runlab view's command label, in the Runlab menu's order. */
const VIEW_LABELS = [
  'Show Panel',
  'Show Runs',
  'Runs Table',
  'Compare Selected Runs',
  'Open Run by Id…',
  'Show Datasets',
  'Show Provenance',
  'Show Runners',
  'Run on Runner…',
  'Sweep…',
  'Open Sweep…',
  'Open Job by Id…',
  'Show Models',
  'Show Deployments',
  'Deploy Model…',
  'Switch Project…'
] as const;

test('every Runlab view has a command with a plain label, and the common ones have shortcuts', async ({ page, runlab }) => {
  await runlab.open(page, 'lab');
  const state = await page.evaluate(() => {
    const { commands } = (window as unknown as ILabWindow).jupyterapp;
    const views = [
      'runlab:open-panel',
      'runlab:open-runs',
      'runlab:open-runs-table',
      'runlab:compare-selected',
      'runlab:open-run',
      'runlab:open-datasets',
      'runlab:show-provenance',
      'runlab:open-runners',
      'runlab:run-on-runner',
      'runlab:new-sweep',
      'runlab:open-sweep',
      'runlab:open-job',
      'runlab:open-models',
      'runlab:open-deployments',
      'runlab:deploy-model',
      'runlab:switch-project',
      'runlab:sign-in',
      'runlab:open-settings'
    ];
    return {
      labels: views.map((id) => (commands.hasCommand(id) ? commands.label(id) : `missing ${id}`)),
      bindings: commands.keyBindings
        .filter((binding) => binding.command.startsWith('runlab:'))
        .map((binding) => `${binding.command} ${binding.keys.join(' ')}`)
    };
  });
  expect(state.labels).toEqual([...VIEW_LABELS, 'Sign In…', 'Open Settings']);
  expect(state.bindings).toEqual(
    expect.arrayContaining(['runlab:open-runs Ctrl Alt R', 'runlab:open-runs-table Ctrl Alt T', 'runlab:open-datasets Ctrl Alt D'])
  );
});

test('the command palette lists every Runlab view under Runlab', async ({ page, runlab }) => {
  await runlab.open(page, 'lab');
  // With no query the palette shows every item under its category's header, in order.
  const runlabItems = () =>
    page.evaluate(async () => {
      // The modal palette closes when it loses focus, which the launcher can take while the
      // page settles; a user would press Ctrl Shift C again, and so does the poll.
      const palette = document.querySelector('.jp-ModalCommandPalette');
      if (!palette || palette.classList.contains('lm-mod-hidden')) {
        await (window as unknown as ILabWindow).jupyterapp.commands.execute('apputils:activate-command-palette', {});
      }
      const labels: string[] = [];
      let inRunlab = false;
      for (const node of Array.from(document.querySelectorAll('.lm-CommandPalette-content > li'))) {
        if (node.classList.contains('lm-CommandPalette-header')) {
          // The header's first text is its category; an icon follows it.
          inRunlab = node.firstChild?.textContent?.trim() === 'Runlab';
        } else if (inRunlab) {
          labels.push(node.querySelector('.lm-CommandPalette-itemLabel')?.textContent ?? '');
        }
      }
      return labels;
    });
  await expect.poll(runlabItems).toEqual(expect.arrayContaining([...VIEW_LABELS]));
  const listed = await runlabItems();
  expect(
    listed.filter((label) => label.startsWith('Runlab')),
    'no label repeats the category'
  ).toEqual([]);
  await page.keyboard.press('Escape');
});

test('Compare Selected Runs compares the runs ticked in the Runs panel', async ({ page, runlab }) => {
  const first = await runlab.api<IRun>('/api/runs', { method: 'POST', body: { project: 'demo', name: 'ticked-one' } });
  const second = await runlab.api<IRun>('/api/runs', { method: 'POST', body: { project: 'demo', name: 'ticked-two' } });
  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:open-runs');
  const enabled = () => page.evaluate(() => (window as unknown as ILabWindow).jupyterapp.commands.isEnabled('runlab:compare-selected'));
  const tick = (run: IRun) => page.locator(`#jp-runlab-runs .jp-runlab-RunRow[data-run-id="${run.id}"] input[type="checkbox"]`).check();
  await tick(first);
  expect(await enabled(), 'one run is not a comparison').toBe(false);
  await tick(second);
  await expect.poll(enabled).toBe(true);
  await runCommand(page, 'runlab:compare-selected');
  const compared = page.locator('.jp-runlab-CompareView .jp-runlab-CompareRuns li');
  await expect(compared).toHaveCount(2);
  expect((await compared.allTextContents()).map((name) => name.trim()).sort()).toEqual(['ticked-one', 'ticked-two']);
});
