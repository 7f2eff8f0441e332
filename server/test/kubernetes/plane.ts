/**
 * What the Kubernetes tests share: the control plane globalSetup started (its kubeconfig and
 * contexts), an admin client for checking what is in the cluster the way `kubectl get` would,
 * namespaces per test file, and the kubelet stand-in.
 *
 * The kubelet stand-in: KWOK runs no containers, so a test that needs what runs inside a pod
 * reads the pod from the API server and starts its command, with its environment (Secrets
 * resolved), as a local process, mapping the image's `python -m runlab …` or `runlab …` to this
 * checkout's .venv and the container port to a free local port. Everything else about the pod
 * (scheduling, readiness, deletion) is the real control plane's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';

export const CONTEXT = 'runlab-test';
export const VIEWER_CONTEXT = 'runlab-test-viewer';
export const OPERATOR_CONTEXT = 'runlab-test-operator';
export const UNREACHABLE_CONTEXT = 'runlab-test-unreachable';
export const OPERATOR_USER = 'runlab-operator';

const ROOT = path.resolve(__dirname, '..', '..', '..');
export const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');

export interface Plane {
  dir: string;
  kubeconfig: string;
  server: string;
  auditLog: string | null;
}

export function planeFromEnv(): Plane {
  const dir = process.env.RUNLAB_TEST_KUBE_DIR;
  if (!dir) throw new Error('RUNLAB_TEST_KUBE_DIR is unset: run the Kubernetes tests with -c server/jest.kubernetes.config.js');
  return JSON.parse(fs.readFileSync(path.join(dir, 'plane.json'), 'utf8')) as Plane;
}

/** The cluster as its administrator sees it. */
export function adminClient(plane: Plane): { config: KubeConfig; core: CoreV1Api; objects: KubernetesObjectApi } {
  const config = new KubeConfig();
  config.loadFromFile(plane.kubeconfig);
  config.setCurrentContext(CONTEXT);
  return { config, core: config.makeApiClient(CoreV1Api), objects: KubernetesObjectApi.makeApiClient(config) };
}

/** A fresh namespace, ready for workloads (its default ServiceAccount exists). */
export async function createNamespace(plane: Plane, name: string): Promise<void> {
  const { core } = adminClient(plane);
  await core.createNamespace({ body: { metadata: { name } } });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Every object of a kind in a namespace with Runlab's label, by name (what `kubectl get -l …` lists). */
export async function managedObjects(plane: Plane, apiVersion: string, kind: string, namespace: string): Promise<KubernetesObject[]> {
  const { objects } = adminClient(plane);
  const list = await objects.list(
    apiVersion,
    kind,
    namespace,
    undefined,
    undefined,
    undefined,
    undefined,
    'app.kubernetes.io/managed-by=runlab'
  );
  return list.items;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface PodProcess {
  pod: string;
  child: ChildProcess;
  /** The local port the container's port maps to (0 when it has none). */
  port: number;
  output: () => string;
  stop: () => Promise<void>;
}

/** The kubelet stand-in: starts the pod's first container as a local process (see the header). */
export async function runPod(plane: Plane, pod: V1Pod): Promise<PodProcess> {
  const { core } = adminClient(plane);
  const namespace = pod.metadata?.namespace ?? 'default';
  const container = pod.spec?.containers[0];
  if (!container) throw new Error(`pod ${pod.metadata?.name} has no container`);
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) {
      const secret = await core.readNamespacedSecret({ name: ref.name ?? '', namespace });
      env[variable.name] = Buffer.from(secret.data?.[ref.key] ?? '', 'base64').toString('utf8');
    }
  }
  const containerPort = container.ports?.[0]?.containerPort;
  const port = containerPort ? await freePort() : 0;
  let argv = [...(container.command ?? []), ...(container.args ?? [])];
  if (argv[0] === 'python') argv = [PYTHON, ...argv.slice(1)];
  else if (argv[0] === 'runlab') argv = [PYTHON, '-m', 'runlab', ...argv.slice(1)];
  else throw new Error(`the kubelet stand-in runs python or runlab commands, not ${argv[0]}`);
  argv = argv.map((arg, i) =>
    containerPort && argv[i - 1] === '--port' && arg === String(containerPort) ? String(port) : arg === '0.0.0.0' ? '127.0.0.1' : arg
  );
  let output = '';
  const child = spawn(argv[0], argv.slice(1), {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const deadline = Date.now() + 5000;
    while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return { pod: pod.metadata?.name ?? '', child, port, output: () => output, stop };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` gives a truthy value; the error says what was awaited. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string,
  timeoutMs = 60_000
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as T;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await sleep(100);
  }
}
