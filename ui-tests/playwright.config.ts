/**
 * UI tests: a real JupyterLab with the built extension, a real companion server, in the
 * system's headless Chromium (never a downloaded browser). scripts/test.mjs finds Chromium and
 * sets CHROMIUM_PATH. The global setup (kubernetes.ts) starts a local Kubernetes control plane
 * for the Kubernetes tests and stops it at the end.
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  // A Kubernetes control plane for tests/kubernetes.spec.ts; its kubeconfig reaches the companion servers.
  globalSetup: './kubernetes.ts',
  timeout: 180_000,
  expect: { timeout: 30_000 },
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: process.env.RUNLAB_UI_REPORT || 'test-results/report.json' }]],
  use: {
    headless: true,
    viewport: { width: 1400, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    },
    trace: 'retain-on-failure'
  }
});
