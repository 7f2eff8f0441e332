/**
 * The Runs panel with 10,000 runs: the list is virtualized, so only the rows in view are in the
 * page, and scrolling from the newest run to the oldest stays quick.
 */
import { expect, runCommand, screenshot, test } from './fixtures';

const RUNS = 10_000;
const CONCURRENCY = 16;

test('the Runs panel stays smooth with 10,000 runs', async ({ page, runlab }) => {
  test.setTimeout(300_000);
  const existing = (await runlab.api<{ total: number }>('/api/runs?project=demo&limit=1')).total;
  let next = 0;
  const createSome = async () => {
    while (next < RUNS) {
      const index = next++;
      await runlab.api('/api/runs', {
        method: 'POST',
        body: { project: 'demo', name: `scale-${String(index).padStart(5, '0')}`, params: { index: String(index) } }
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, createSome));

  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:open-runs');
  const panel = page.locator('#jp-runlab-runs');
  const total = (RUNS + existing).toLocaleString('en-US');
  // The panel loads the newest 10,000 and says how many there are in all.
  await expect(panel.locator('.jp-runlab-RunsCount')).toHaveText(
    RUNS + existing > 10_000 ? `newest 10,000 of ${total} runs` : `${total} runs`,
    { timeout: 60_000 }
  );
  // Virtualized: a screenful of rows in the page, not ten thousand.
  const rendered = await panel.locator('.jp-runlab-RunRow').count();
  expect(rendered).toBeGreaterThan(5);
  expect(rendered).toBeLessThan(100);

  // Scroll through the whole list in steps and time each step's frame.
  const timings = await panel.locator('.jp-runlab-RunsList > div').evaluate(async (scroller: HTMLElement) => {
    const frames: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const start = performance.now();
      scroller.scrollTop = (scroller.scrollHeight * i) / 20;
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      frames.push(performance.now() - start);
    }
    return frames.sort((a, b) => a - b);
  });
  console.log(`Runs panel, ${RUNS + existing} runs: scroll step median ${timings[10].toFixed(1)} ms, max ${timings[19].toFixed(1)} ms`);
  await expect(panel.locator('.jp-runlab-RunRow', { hasText: 'scale-00000' })).toBeVisible();
  expect(await panel.locator('.jp-runlab-RunRow').count()).toBeLessThan(100);
  await screenshot(page, 'runs-10k');
});
