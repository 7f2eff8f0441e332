#!/usr/bin/env node
/**
 * Kubernetes deployments on the test control plane (kube-apiserver, etcd, controller-manager,
 * scheduler, KWOK nodes: scripts/kube), side by side with what a user would do by hand:
 *
 * 1. deploy → Available, p50/p95 of 20 deploys: Runlab (POST /api/deployments until the
 *    deployment is ready) vs `kubectl apply -f` of an equivalent Deployment + Service and
 *    `kubectl rollout status`;
 * 2. roll back (a promoted v2 back to v1) until Available again: Runlab's Roll back vs
 *    `kubectl rollout undo` + `kubectl rollout status`, 10 times each;
 * 3. watching 50 deployments for 60 s: the companion server's memory (this process's RSS: the
 *    server runs in it) and its API calls per minute, counted by the API server's audit log
 *    (the server uses its own kubeconfig user, so its calls are told apart).
 *
 * KWOK makes pods Ready at once, so the figures are the control loop's cost (API calls, watch
 * latency, controllers), not image pulls or container starts.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditEntries, createNamespace, OPERATOR_CONTEXT, OPERATOR_USER, startControlPlane } from '../scripts/kube/controlPlane.mjs';
import { PYTHON, ROOT } from '../scripts/setup.mjs';
import { percentiles, startBenchServer } from './server.mjs';

const DEPLOYS = 20;
const ROLLBACKS = 10;
const WATCHED = 50;
const WATCH_SECONDS = 60;
const NAMESPACE = 'bench';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (line) => process.stdout.write(`${line}\n`);
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-bench-kube-'));
const plane = await startControlPlane({ dir: path.join(tmp, 'plane'), crds: false, audit: true });
say(`control plane up in ${fmt(plane.startedInMs)}`);
await createNamespace(plane, NAMESPACE);
const server = await startBenchServer({ RUNLAB_KUBECONFIG: plane.kubeconfig });
global.gc?.();
const rssAtStart = process.memoryUsage().rss;

async function api(method, urlPath, json) {
  const response = await fetch(server.url + urlPath, {
    method,
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json)
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(`${method} ${urlPath} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/** Two versions of a real scikit-learn model, registered as `runlab.model(...)` does. */
async function registerVersions() {
  const script = `
import json, sys
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from runlab.models.flavors import save_model
rng = np.random.default_rng(int(sys.argv[2]))
X = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
saved = save_model(LogisticRegression().fit(X, (X.a > 0).astype(int)), sys.argv[1], input_example=X.iloc[:3])
print(json.dumps({"flavor": saved.flavor, "signature": saved.signature, "requirements": saved.requirements}))`;
  for (const seed of [1, 2]) {
    const dir = path.join(tmp, `model-${seed}`);
    const saved = JSON.parse(
      execFileSync(PYTHON, ['-c', script, dir, String(seed)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .pop()
    );
    const run = await api('POST', '/api/runs', { project: 'bench', name: 'train' });
    for (const file of fs.readdirSync(dir)) {
      await fetch(`${server.url}/api/runs/${run.id}/artifacts?path=${encodeURIComponent(`models/churn/${file}`)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/octet-stream' },
        body: fs.readFileSync(path.join(dir, file))
      });
    }
    await api('POST', '/api/models/churn/versions', { runId: run.id, artifactPath: 'models/churn', ...saved });
  }
}

async function waitReady(id, revision) {
  for (;;) {
    const d = await api('GET', `/api/deployments/${id}`);
    if (d.status === 'ready' && d.revision === revision) return;
    if (d.status === 'failed') throw new Error(`deployment ${d.name} failed: ${d.statusMessage}`);
    await sleep(5);
  }
}

const deployBody = (name) => ({
  name,
  model: 'churn',
  version: 'v1',
  target: 'kubernetes',
  replicas: 2,
  kubernetes: { context: OPERATOR_CONTEXT, namespace: NAMESPACE }
});

/** kubectl, asynchronously: the companion server runs in this process and must keep serving meanwhile. */
async function kubectl(args) {
  try {
    const { stdout } = await promisify(execFile)('kubectl', [
      '--kubeconfig',
      plane.kubeconfig,
      '--context',
      OPERATOR_CONTEXT,
      '-n',
      NAMESPACE,
      ...args
    ]);
    return stdout;
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw new Error(`kubectl ${args.join(' ')}: ${error.stderr ?? error.message}`);
  }
}

function kubectlManifest(name, image) {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 2
  selector: { matchLabels: { app: ${name} } }
  strategy: { rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
      - name: serving
        image: ${image}
        ports: [{ containerPort: 8080 }]
        resources: { requests: { cpu: 100m, memory: 256Mi } }
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ port: 80, targetPort: 8080 }]
`;
}

try {
  await registerVersions();
  const hasKubectl = (await kubectl(['version', '--client'])) !== null;

  // 1. deploy → Available
  const runlab = [];
  for (let i = 0; i < DEPLOYS; i++) {
    const started = performance.now();
    const d = await api('POST', '/api/deployments', deployBody(`churn-${i}`));
    await waitReady(d.id, 1);
    runlab.push(performance.now() - started);
    await api('DELETE', `/api/deployments/${d.id}`);
  }
  const byHand = [];
  if (hasKubectl) {
    for (let i = 0; i < DEPLOYS; i++) {
      const file = path.join(tmp, `kubectl-${i}.yaml`);
      fs.writeFileSync(file, kubectlManifest(`hand-${i}`, 'runlab-serving:v1'));
      const started = performance.now();
      await kubectl(['apply', '-f', file]);
      await kubectl(['rollout', 'status', `deployment/hand-${i}`, '--timeout', '60s']);
      byHand.push(performance.now() - started);
      await kubectl(['delete', '-f', file, '--wait=false']);
    }
  }
  const r = percentiles(runlab);
  say(`\ndeploy → Available (2 replicas, ${DEPLOYS} deploys)`);
  say(`  Runlab (POST /api/deployments → ready)            p50 ${fmt(r.p50)}  p95 ${fmt(r.p95)}`);
  if (byHand.length) {
    const k = percentiles(byHand);
    say(`  kubectl apply -f + kubectl rollout status        p50 ${fmt(k.p50)}  p95 ${fmt(k.p95)}`);
  } else {
    say('  kubectl: not installed, no side-by-side figure');
  }

  // 2. roll back a promoted v2 to v1
  const d = await api('POST', '/api/deployments', deployBody('churn-rollback'));
  await waitReady(d.id, 1);
  let revision = 1;
  const rollbacks = [];
  for (let i = 0; i < ROLLBACKS; i++) {
    await api('POST', `/api/deployments/${d.id}/traffic`, { second: { mode: 'canary', version: 'v2', percent: 10 } });
    await api('POST', `/api/deployments/${d.id}/promote`, {});
    revision += 2;
    await waitReady(d.id, revision);
    const started = performance.now();
    await api('POST', `/api/deployments/${d.id}/rollback`, {});
    revision += 1;
    await waitReady(d.id, revision);
    rollbacks.push(performance.now() - started);
  }
  await api('DELETE', `/api/deployments/${d.id}`);
  const undo = [];
  if (hasKubectl) {
    const file = path.join(tmp, 'undo.yaml');
    fs.writeFileSync(file, kubectlManifest('hand-undo', 'runlab-serving:v1'));
    await kubectl(['apply', '-f', file]);
    await kubectl(['rollout', 'status', 'deployment/hand-undo', '--timeout', '60s']);
    for (let i = 0; i < ROLLBACKS; i++) {
      // A new version (as an apply of a changed manifest would), then back to the previous one.
      await kubectl(['set', 'image', 'deployment/hand-undo', `serving=runlab-serving:v${i + 2}`]);
      await kubectl(['rollout', 'status', 'deployment/hand-undo', '--timeout', '60s']);
      const started = performance.now();
      await kubectl(['rollout', 'undo', 'deployment/hand-undo']);
      await kubectl(['rollout', 'status', 'deployment/hand-undo', '--timeout', '60s']);
      undo.push(performance.now() - started);
    }
    await kubectl(['delete', '-f', file, '--wait=false']);
  }
  const rb = percentiles(rollbacks);
  say(`\nroll back to the previous version until Available (${ROLLBACKS} times)`);
  say(`  Runlab Roll back                                   p50 ${fmt(rb.p50)}  p95 ${fmt(rb.p95)}`);
  if (undo.length) {
    const u = percentiles(undo);
    say(`  kubectl rollout undo + kubectl rollout status      p50 ${fmt(u.p50)}  p95 ${fmt(u.p95)}`);
  }

  // 3. watching 50 deployments
  const watched = [];
  for (let i = 0; i < WATCHED; i++) watched.push(await api('POST', '/api/deployments', { ...deployBody(`watched-${i}`), replicas: 1 }));
  for (const each of watched) await waitReady(each.id, 1);
  await sleep(2000);
  global.gc?.();
  const callsBefore = server.app.kubernetes.apiCalls;
  const since = Date.now();
  await sleep(WATCH_SECONDS * 1000);
  await sleep(1500); // the audit log is written in batches
  const audited = auditEntries(plane, OPERATOR_USER, since).filter(
    (e) => Date.parse(e.requestReceivedTimestamp) < since + WATCH_SECONDS * 1000
  );
  global.gc?.();
  const rss = process.memoryUsage().rss;
  say(`\nwatching ${WATCHED} ready deployments for ${WATCH_SECONDS} s`);
  say(
    `  companion server RSS (this process)               ${(rss / 1024 ** 2).toFixed(0)} MiB (${(rssAtStart / 1024 ** 2).toFixed(0)} MiB before any deployment)`
  );
  say(`  API calls per minute (the API server's audit log) ${((audited.length / WATCH_SECONDS) * 60).toFixed(1)}`);
  say(
    `  API calls per minute (the server's own count)     ${(((server.app.kubernetes.apiCalls - callsBefore) / WATCH_SECONDS) * 60).toFixed(1)}`
  );
  say(`  shared watches: one per kind and namespace, not per deployment`);
  for (const each of watched) await api('DELETE', `/api/deployments/${each.id}`);
} finally {
  await server.close();
  await plane.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
void ROOT;
