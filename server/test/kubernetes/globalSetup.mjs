/** Starts the Kubernetes suite's control plane (building its binaries first if they are not cached). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startControlPlane } from '../../../scripts/kube/controlPlane.mjs';

export default async function globalSetup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-kube-'));
  const plane = await startControlPlane({ dir, audit: true });
  process.stdout.write(
    `\n[runlab] Kubernetes test control plane up in ${(plane.startedInMs / 1000).toFixed(1)} s at ${plane.server} (${dir})\n`
  );
  globalThis.runlabControlPlane = plane;
  process.env.RUNLAB_TEST_KUBE_DIR = dir;
  process.env.RUNLAB_TEST_KUBECONFIG = plane.kubeconfig;
  fs.writeFileSync(
    path.join(dir, 'plane.json'),
    JSON.stringify({ dir, kubeconfig: plane.kubeconfig, server: plane.server, certs: plane.certs, auditLog: plane.auditLog })
  );
}
