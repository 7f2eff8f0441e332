/**
 * Which server the panel connects to when the user's settings and `npm start` disagree: a
 * server signed in to on purpose is kept, with the local server one click away ("Use the local
 * server"), and the advice says what is true; a stale localhost address from an earlier
 * `npm start` gives way to the local server by itself. Each test runs its own companion servers
 * and restarts JupyterLab with npm-start-like defaults, as a user's next `npm start` would.
 */
import { Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, openRunlabPanel, screenshot, setTheme, startLabWithDefaults, startServerFor, test } from './fixtures';

interface IUserSettings {
  serverUrl?: string;
  token?: string;
  project?: string;
  signedInTo?: string;
}

/** The user's own Runlab connection settings, as JupyterLab stored them. */
function userSettings(settingsDir: string): IUserSettings {
  const file = path.join(settingsDir, 'runlab', 'connection.jupyterlab-settings');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as IUserSettings) : {};
}

function panel(page: Page) {
  const root = page.locator('#jp-runlab-panel');
  return {
    root,
    status: root.locator('.jp-runlab-ConnectionStatus'),
    url: root.locator('.jp-runlab-Facts dd').first(),
    message: root.locator('section[aria-label="Connection"] .jp-runlab-Message'),
    useLocal: root.getByRole('button', { name: 'Use the local server' })
  };
}

async function signInWithDialog(page: Page, serverUrl: string | null, token: string, screenshotName?: string): Promise<void> {
  await page.locator('#jp-runlab-panel').getByRole('button', { name: 'Sign in…' }).click();
  const dialog = page.locator('.jp-Dialog');
  if (serverUrl !== null) {
    await dialog.getByLabel('Server URL').fill(serverUrl);
  }
  await dialog.getByLabel('Access token').fill(token);
  if (screenshotName) {
    await screenshot(page, screenshotName);
  }
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await expect(dialog).toBeHidden();
}

type Server = Awaited<ReturnType<typeof startServerFor>>;
type Lab = Awaited<ReturnType<typeof startLabWithDefaults>>;

/**
 * What the user's next `npm start` does: JupyterLab and the local server stop, the local server
 * comes back on the same data directory but another port, and JupyterLab starts again with
 * defaults naming it.
 */
async function nextNpmStart(temp: string, settingsDir: string, running: { local: Server; lab: Lab }): Promise<{ local: Server; lab: Lab }> {
  await running.lab.stop();
  const earlierLocalUrl = running.local.url;
  await running.local.stop();
  const local = await startServerFor(path.join(temp, 'local-data'), path.join(temp, 'local.log'));
  expect(local.url).not.toBe(earlierLocalUrl);
  const lab = await startLabWithDefaults({ temp, settingsDir, defaults: { serverUrl: local.url, token: local.token, project: 'demo' } });
  return { local, lab };
}

test('a server signed in to on purpose stays after npm start moves to another port, and the local server is one click away', async ({
  page
}) => {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-settings-'));
  const settingsDir = path.join(temp, 'settings');
  const localData = path.join(temp, 'local-data');
  const stops: Array<() => Promise<void>> = [];
  try {
    let local = await startServerFor(localData, path.join(temp, 'local.log'));
    stops.push(() => local.stop());
    const shared = await startServerFor(path.join(temp, 'shared-data'), path.join(temp, 'shared.log'));
    stops.push(() => shared.stop());
    let lab = await startLabWithDefaults({ temp, settingsDir, defaults: { serverUrl: local.url, token: local.token, project: 'demo' } });
    stops.push(() => lab.stop());

    await lab.open(page, 'lab');
    await openRunlabPanel(page);
    const view = panel(page);
    await expect(view.status).toHaveAttribute('data-status', 'connected');
    await expect(view.url).toHaveText(local.url);
    await expect(view.useLocal).toHaveCount(0);

    // Sign in to another server, as a user would: it is recorded as their choice.
    await signInWithDialog(page, shared.url, shared.token, 'settings-sign-in-elsewhere');
    await expect(view.status).toHaveAttribute('data-status', 'connected');
    await expect(view.url).toHaveText(shared.url);
    await expect(view.useLocal).toBeVisible();
    expect(userSettings(settingsDir)).toMatchObject({ serverUrl: shared.url, token: shared.token, signedInTo: shared.url });

    ({ local, lab } = await nextNpmStart(temp, settingsDir, { local, lab }));

    await lab.open(page, 'lab');
    await openRunlabPanel(page);
    // Kept: the user chose it. The local server is named and offered.
    await expect(view.status).toHaveAttribute('data-status', 'connected');
    await expect(view.url).toHaveText(shared.url);
    await expect(view.useLocal).toBeVisible();
    await expect(view.root.locator('.jp-runlab-LocalServerUrl')).toHaveText(local.url);
    await expect(view.message).toContainText(`local Runlab server \`npm start\` runs is also up, at ${local.url}`);

    // The chosen server goes away: the advice names it and the running local server, and does
    // not send the user to start what is already running.
    await shared.stop();
    await expect(view.status).toHaveAttribute('data-status', 'unreachable');
    await expect(view.message).toContainText(`Cannot reach the Runlab server at ${shared.url}, the one your settings name.`);
    await expect(view.message).toContainText(`is up at ${local.url}`);
    await expect(view.message).toContainText('Use the local server');
    await expect(view.message).not.toContainText('Start it');
    await expect(page.locator('.jp-runlab-StatusItem')).toContainText('Server unreachable');
    await screenshot(page, 'settings-use-local-server-light');
    await setTheme(page, 'JupyterLab Dark');
    await expect(view.useLocal).toBeVisible();
    await screenshot(page, 'settings-use-local-server-dark');
    await setTheme(page, 'JupyterLab Light');

    // The same switch is in the command palette.
    const commandState = await page.evaluate(() => {
      const commands = (window as unknown as { jupyterapp: { commands: { isEnabled(id: string): boolean; label(id: string): string } } })
        .jupyterapp.commands;
      return { enabled: commands.isEnabled('runlab:use-local-server'), label: commands.label('runlab:use-local-server') };
    });
    expect(commandState).toEqual({ enabled: true, label: 'Use the Local Server' });

    // One click: connected to the local server, and the settings follow npm start from now on.
    await view.useLocal.click();
    await expect(view.status).toHaveAttribute('data-status', 'connected');
    await expect(view.url).toHaveText(local.url);
    await expect(view.useLocal).toHaveCount(0);
    await expect(page.locator('.jp-runlab-StatusItem')).toContainText('Runlab: Connected');
    const after = userSettings(settingsDir);
    expect(after.serverUrl).toBeUndefined();
    expect(after.token).toBeUndefined();
    expect(after.signedInTo).toBeUndefined();
  } finally {
    for (const stop of stops.reverse()) {
      await stop();
    }
    fs.rmSync(temp, { recursive: true, force: true });
  }
});

test('a stale localhost address from an earlier npm start gives way to the local server npm start runs now', async ({ page }) => {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-settings-'));
  const settingsDir = path.join(temp, 'settings');
  const localData = path.join(temp, 'local-data');
  const stops: Array<() => Promise<void>> = [];
  try {
    let local = await startServerFor(localData, path.join(temp, 'local.log'));
    stops.push(() => local.stop());
    // What Sign In wrote before it recorded choices: the local server's address and token of the time.
    const staleUrl = local.url;
    fs.mkdirSync(path.join(settingsDir, 'runlab'), { recursive: true });
    fs.writeFileSync(
      path.join(settingsDir, 'runlab', 'connection.jupyterlab-settings'),
      JSON.stringify({ serverUrl: staleUrl, token: local.token, project: 'demo' })
    );
    await local.stop();
    local = await startServerFor(localData, path.join(temp, 'local.log'));
    expect(local.url).not.toBe(staleUrl);
    let lab = await startLabWithDefaults({ temp, settingsDir, defaults: { serverUrl: local.url, token: local.token, project: 'demo' } });
    stops.push(() => lab.stop());

    await lab.open(page, 'lab');
    await openRunlabPanel(page);
    const view = panel(page);
    await expect(view.status).toHaveAttribute('data-status', 'connected');
    await expect(view.url).toHaveText(local.url);
    await expect(view.useLocal).toHaveCount(0);
    await expect(
      page.getByText(`${staleUrl} (in your settings) no longer answers; now using the local server ${local.url}.`)
    ).toBeVisible();
    expect(userSettings(settingsDir)).toEqual({ project: 'demo' });

    // Signing in to the local server (the dialog offers its address) keeps following npm start.
    await signInWithDialog(page, null, '');
    await expect(view.status).toHaveAttribute('data-status', 'connected');
    expect(userSettings(settingsDir).serverUrl).toBeUndefined();
    ({ local, lab } = await nextNpmStart(temp, settingsDir, { local, lab }));
    await lab.open(page, 'lab');
    await openRunlabPanel(page);
    await expect(view.status).toHaveAttribute('data-status', 'connected');
    await expect(view.url).toHaveText(local.url);
    await expect(view.useLocal).toHaveCount(0);
  } finally {
    for (const stop of stops.reverse()) {
      await stop();
    }
    fs.rmSync(temp, { recursive: true, force: true });
  }
});
