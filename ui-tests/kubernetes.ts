/**
 * Playwright global setup: a real Kubernetes control plane (etcd, kube-apiserver, controller
 * manager, scheduler and KWOK's two simulated nodes, from scripts/kube/controlPlane.mjs) in a
 * temp folder, for tests/kubernetes.spec.ts. Its kubeconfig reaches every companion server the
 * fixtures start as RUNLAB_KUBECONFIG (they inherit the runner's environment, which Playwright
 * passes to its workers). The function it returns is the teardown: it stops the processes and
 * removes the folder.
 *
 * A run that names only other spec files starts no control plane (it takes a few seconds and
 * builds its binaries on the first run).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startControlPlane } from '../scripts/kube/controlPlane.mjs';

function runIncludesKubernetes(): boolean {
  const named = process.argv.filter((arg) => /\.spec\.ts$|^tests\/|\/tests\//.test(arg));
  return named.length === 0 || named.some((arg) => arg.includes('kubernetes'));
}

export default async function globalSetup(): Promise<(() => Promise<void>) | undefined> {
  if (!runIncludesKubernetes()) {
    return undefined;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-ui-kube-'));
  // plain JavaScript: `stop` is added after the object literal TypeScript infers the type from.
  const plane = (await startControlPlane({ dir })) as Awaited<ReturnType<typeof startControlPlane>> & { stop(): Promise<void> };
  process.stdout.write(`[runlab] Kubernetes control plane for the UI tests at ${plane.server} (${dir})\n`);
  process.env.RUNLAB_KUBECONFIG = plane.kubeconfig;
  // For the tests' own administrator requests (adminRequest needs the server and the certificates).
  process.env.RUNLAB_UI_KUBE_DIR = dir;
  process.env.RUNLAB_UI_KUBE_SERVER = plane.server;
  return async () => {
    await plane.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
