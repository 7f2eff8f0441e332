/**
 * First-run snags: the demo notebook opens clean, long provenance labels fit their nodes, and
 * a run row shows the same metrics live as after a reload (also while a long list is still
 * loading when the run starts), and a Restore can be undone.
 */
import type { Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { expect, runCommand, test, writeNotebook } from './fixtures';

interface IRun {
  id: string;
  name: string;
}

interface INotebookWindow {
  jupyterapp: {
    shell: {
      currentWidget: {
        context: { model: { dirty: boolean; getMetadata(key: string): unknown } };
        sessionContext: { session: { kernel: { info: Promise<unknown> } | null } | null };
      } | null;
    };
  };
}

test('the demo notebook is not modified by opening it and starting its kernel', async ({ page, runlab }) => {
  const onDisk = JSON.parse(fs.readFileSync(path.join(runlab.rootDir, 'demo.ipynb'), 'utf8')) as { metadata: unknown };
  await runlab.open(page, 'lab/tree/demo.ipynb');
  const tab = page.locator('.lm-DockPanel-tabBar [role="tab"]', { hasText: 'demo.ipynb' });
  await expect(tab).toBeVisible();
  await expect(page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).toHaveCount(1, { timeout: 60_000 });
  // The kernel's info is what JupyterLab writes into the notebook's metadata: wait until it has.
  const opened = await page.evaluate(async () => {
    const widget = (window as unknown as INotebookWindow).jupyterapp.shell.currentWidget!;
    await widget.sessionContext.session?.kernel?.info;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const model = widget.context.model;
    return {
      dirty: model.dirty,
      metadata: { kernelspec: model.getMetadata('kernelspec'), language_info: model.getMetadata('language_info') }
    };
  });
  expect(opened.metadata, 'the notebook metadata JupyterLab fills in from the kernel').toEqual(onDisk.metadata);
  expect(opened.dirty).toBe(false);
  await expect(tab).not.toHaveClass(/jp-mod-dirty/);
});

test('a long run name is cut to its provenance node, and its tooltip has it all', async ({ page, runlab }) => {
  const name = 'WIDE-MODEL-RESNET50-IMAGENET-finetune-lr0.1-batch256-e90-xyz';
  expect(name).toHaveLength(60);
  const run = await runlab.api<IRun>('/api/runs', { method: 'POST', body: { project: 'demo', name } });
  await runlab.api(`/api/runs/${run.id}`, { method: 'PATCH', body: { status: 'finished' } });
  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:open-run', { runId: run.id });
  await page.locator(`.jp-runlab-RunView[data-run-id="${run.id}"]`).getByRole('button', { name: 'Provenance', exact: true }).click();
  const node = page.locator(`svg.jp-runlab-ProvGraph .jp-runlab-ProvNode[data-ref="run:${run.id}"]`);
  await expect(node).toBeVisible();
  await expect(node.locator('.jp-runlab-ProvLabel')).toContainText('\u2026');
  await expect(node.locator('title')).toContainText(name);
  // Every line of text inside the node's shape, in the node's own coordinates.
  const fit = await node.evaluate((group) => {
    const shape = (group.querySelector('.jp-runlab-ProvShape') as SVGGraphicsElement).getBBox();
    return [...group.querySelectorAll('text')].map((text) => {
      const box = text.getBBox();
      return { text: text.textContent, left: box.x - shape.x, right: shape.x + shape.width - (box.x + box.width) };
    });
  });
  expect(fit).toHaveLength(3);
  for (const line of fit) {
    expect(line.left, `"${line.text}" starts inside the node`).toBeGreaterThanOrEqual(0);
    expect(line.right, `"${line.text}" ends inside the node`).toBeGreaterThanOrEqual(0);
  }
  const label = fit.find((line) => line.text?.startsWith('WIDE-MOD'));
  expect(label, 'the label keeps the start of the name').toBeTruthy();
});

async function openRunsPanel(page: Page): Promise<void> {
  await runCommand(page, 'runlab:open-runs');
  await expect(page.locator('#jp-runlab-runs')).toBeVisible();
}

test('a run row shows the same metrics while it is live and after a reload', async ({ page, runlab }) => {
  await runlab.open(page, 'lab');
  await openRunsPanel(page);
  const run = await runlab.api<IRun>('/api/runs', { method: 'POST', body: { project: 'demo', name: 'three-metrics' } });
  const row = page.locator(`#jp-runlab-runs .jp-runlab-RunRow[data-run-id="${run.id}"]`);
  await expect(row).toHaveAttribute('data-status', 'running');
  const shown = () => row.locator('.jp-runlab-RunRow-metric').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-metric')));
  // Logged one at a time (separate live messages), in an order that is not by name.
  const log = async (index: number, key: string, value: number) =>
    runlab.api(`/api/runs/${run.id}/log`, {
      method: 'POST',
      body: { idempotencyKey: `snag-${run.id}-${index}`, metrics: [{ key, value, step: index }] }
    });
  await log(0, 'zeta_loss', 0.5);
  await expect(row.locator('.jp-runlab-RunRow-metric')).toHaveCount(1);
  await log(1, 'accuracy', 0.25);
  await expect(row.locator('.jp-runlab-RunRow-metric')).toHaveCount(2);
  await log(2, 'Beta', 0.75);
  // A last accuracy point, after Beta's: once the row shows it, Beta has arrived too.
  await page.waitForTimeout(300);
  await log(3, 'accuracy', 7.25);
  await expect(row.locator('.jp-runlab-RunRow-metric[data-metric="accuracy"]')).toContainText('7.25');
  const live = await shown();
  expect(live).toHaveLength(2);

  await runlab.open(page, 'lab');
  await openRunsPanel(page);
  await expect(row.locator('.jp-runlab-RunRow-metric')).toHaveCount(2);
  expect(await shown()).toEqual(live);
});

test('Restore can be undone, unsaved edits included', async ({ page, runlab }) => {
  const notebookPath = 'undo-me.ipynb';
  const run = await runlab.api<IRun>('/api/runs', { method: 'POST', body: { project: 'demo', name: 'kept-version', notebookPath } });
  await runlab.api(`/api/runs/${run.id}/snapshot`, {
    method: 'POST',
    body: {
      notebookPath,
      notebook: {
        cells: [{ cell_type: 'code', source: 'print("the kept version")', metadata: {}, outputs: [], execution_count: null }],
        metadata: {},
        nbformat: 4,
        nbformat_minor: 5
      }
    }
  });
  const file = path.join(runlab.rootDir, notebookPath);
  writeNotebook(file, ['print("work in progress")']);
  await runlab.open(page, `lab/tree/${notebookPath}`);
  const editor = page.locator('.jp-Notebook .jp-CodeCell .jp-InputArea-editor').first();
  await expect(editor).toContainText('work in progress');
  // An edit that no run captured and that is not even saved yet.
  await editor.click();
  await page.keyboard.press('End');
  await page.keyboard.type('  # unsaved idea');

  // Started, not awaited: the command finishes only after its dialog is answered.
  await page.evaluate((runId) => {
    void (
      window as unknown as { jupyterapp: { commands: { execute(id: string, args: object): Promise<unknown> } } }
    ).jupyterapp.commands.execute('runlab:restore-snapshot', { runId });
  }, run.id);
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Restore' }).click();
  await expect.poll(() => fs.readFileSync(file, 'utf8'), { timeout: 15_000 }).toContain('the kept version');
  await expect(editor).toContainText('the kept version');

  await page.locator('.jp-toast-button', { hasText: 'Undo' }).click();
  await expect.poll(() => fs.readFileSync(file, 'utf8'), { timeout: 15_000 }).toContain('# unsaved idea');
  await expect(editor).toContainText('print("work in progress")  # unsaved idea');
});
