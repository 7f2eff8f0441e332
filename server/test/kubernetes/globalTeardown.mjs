/** Stops the control plane globalSetup started and removes its folder. */
import fs from 'node:fs';

export default async function globalTeardown() {
  const plane = globalThis.runlabControlPlane;
  if (!plane) return;
  await plane.stop();
  fs.rmSync(plane.dir, { recursive: true, force: true });
}
