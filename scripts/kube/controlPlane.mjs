/**
 * A real Kubernetes control plane on loopback, for tests and benchmarks: etcd, kube-apiserver,
 * kube-controller-manager and kube-scheduler (the binaries build.mjs caches), and KWOK, which
 * plays two nodes and the pod lifecycle (no container runtime exists on these machines: pods
 * become Ready at once and nothing runs in them).
 *
 * Its kubeconfig has four contexts, each its own client certificate:
 * - `runlab-test`: an administrator (system:masters);
 * - `runlab-test-viewer`: a user bound to the `view` ClusterRole (reads, never writes);
 * - `runlab-test-operator`: another administrator, whose own user name lets the audit log count
 *   one client's API calls (the companion server's, in the benchmark);
 * - `runlab-test-unreachable`: the admin's credentials against a port nothing listens on.
 *
 * `startControlPlane({ dir })` starts everything and waits until nodes are Ready; `stop()` ends
 * every process (SIGTERM, then SIGKILL) and removes nothing it did not create.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { ensureKubeBinaries } from './build.mjs';

export const CONTEXT = 'runlab-test';
export const VIEWER_CONTEXT = 'runlab-test-viewer';
export const OPERATOR_CONTEXT = 'runlab-test-operator';
export const UNREACHABLE_CONTEXT = 'runlab-test-unreachable';
export const OPERATOR_USER = 'runlab-operator';
/** Each simulated node's capacity: a pod asking for more CPU than 16 cannot be scheduled. */
export const NODE_CAPACITY = { cpu: '16', memory: '64Gi', pods: '110' };
export const NODE_NAMES = ['kwok-node-0', 'kwok-node-1'];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function openssl(args, cwd) {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.error?.code === 'ENOENT') {
    throw new Error('The Kubernetes tests need openssl for their certificates: install it (apt-get install openssl).');
  }
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
}

/** A CA, the API server's serving certificate, client certificates, front-proxy and service-account keys. */
function makeCertificates(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const ca = (name, cn) => {
    openssl(['genrsa', '-out', `${name}.key`, '2048'], dir);
    openssl(['req', '-x509', '-new', '-nodes', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-days', '30', '-out', `${name}.crt`], dir);
  };
  const signed = (name, subject, caName, extensions) => {
    openssl(['genrsa', '-out', `${name}.key`, '2048'], dir);
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
    const ext = path.join(dir, `${name}.ext`);
    fs.writeFileSync(ext, extensions);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${caName}.crt`,
        '-CAkey',
        `${caName}.key`,
        '-CAcreateserial',
        '-days',
        '30',
        '-out',
        `${name}.crt`,
        '-extfile',
        ext
      ],
      dir
    );
  };
  const client = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';
  ca('ca', 'runlab-test-ca');
  signed(
    'apiserver',
    '/CN=kube-apiserver',
    'ca',
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.96.0.1\n'
  );
  signed('admin', '/O=system:masters/CN=runlab-test-admin', 'ca', client);
  signed('operator', `/O=system:masters/CN=${OPERATOR_USER}`, 'ca', client);
  signed('viewer', '/CN=runlab-test-viewer', 'ca', client);
  ca('front-proxy-ca', 'runlab-test-front-proxy-ca');
  signed('front-proxy-client', '/CN=front-proxy-client', 'front-proxy-ca', client);
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

function kubeconfigYaml(certs, server, unreachable) {
  const b64 = (file) => fs.readFileSync(path.join(certs, file)).toString('base64');
  const user = (name, cert) =>
    `- name: ${name}\n  user:\n    client-certificate-data: ${b64(`${cert}.crt`)}\n    client-key-data: ${b64(`${cert}.key`)}\n`;
  const context = (name, cluster, userName) =>
    `- name: ${name}\n  context:\n    cluster: ${cluster}\n    user: ${userName}\n    namespace: default\n`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: runlab-test\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${b64('ca.crt')}`,
    `- name: runlab-test-unreachable\n  cluster:\n    server: ${unreachable}\n    certificate-authority-data: ${b64('ca.crt')}`,
    'users:',
    user('runlab-test-admin', 'admin') + user('runlab-test-viewer', 'viewer') + user(OPERATOR_USER, 'operator'),
    'contexts:',
    context(CONTEXT, 'runlab-test', 'runlab-test-admin') +
      context(VIEWER_CONTEXT, 'runlab-test', 'runlab-test-viewer') +
      context(OPERATOR_CONTEXT, 'runlab-test', OPERATOR_USER) +
      context(UNREACHABLE_CONTEXT, 'runlab-test-unreachable', 'runlab-test-admin'),
    `current-context: ${CONTEXT}`,
    ''
  ].join('\n');
}

/** One request to the API server as the administrator; resolves to { status, body }. */
export function adminRequest(plane, method, apiPath, body, contentType = 'application/json') {
  const url = new URL(apiPath, plane.server);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method,
        ca: fs.readFileSync(path.join(plane.certs, 'ca.crt')),
        cert: fs.readFileSync(path.join(plane.certs, 'admin.crt')),
        key: fs.readFileSync(path.join(plane.certs, 'admin.key')),
        headers: payload === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) },
        timeout: 30_000
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => {
          let parsed = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON (healthz answers "ok")
          }
          resolve({ status: response.statusCode, body: parsed });
        });
      }
    );
    request.on('timeout', () => request.destroy(new Error(`${method} ${apiPath} timed out`)));
    request.on('error', reject);
    if (payload !== undefined) request.write(payload);
    request.end();
  });
}

async function waitFor(what, check, timeoutMs, processes) {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    const dead = processes.find((p) => p.child.exitCode !== null);
    if (dead) {
      throw new Error(
        `${dead.name} exited (code ${dead.child.exitCode}) while waiting for ${what}; its log: ${dead.log}\n${tail(dead.log)}`
      );
    }
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error.message;
    }
    await sleep(100);
  }
  throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}${lastError ? ` (${lastError})` : ''}`);
}

function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Applies the KServe InferenceService CRD server-side and waits until it is Established. */
export async function installKServeCrd(plane, crdFile) {
  const yaml = fs.readFileSync(crdFile, 'utf8');
  const applied = await adminRequest(
    plane,
    'PATCH',
    '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/inferenceservices.serving.kserve.io?fieldManager=runlab-test&force=true',
    yaml,
    'application/apply-patch+yaml'
  );
  if (applied.status >= 300) throw new Error(`Could not apply the KServe CRD: ${JSON.stringify(applied.body).slice(0, 500)}`);
  await waitFor(
    'the KServe CRD to be Established',
    async () => {
      const crd = await adminRequest(
        plane,
        'GET',
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/inferenceservices.serving.kserve.io'
      );
      return crd.body?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    },
    30_000,
    plane.processes
  );
}

/** Creates a namespace and waits for its `default` ServiceAccount (workloads need it). */
export async function createNamespace(plane, name) {
  const created = await adminRequest(plane, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (created.status >= 300 && created.status !== 409) {
    throw new Error(`Could not create namespace ${name}: ${JSON.stringify(created.body)}`);
  }
  await waitFor(
    `the default ServiceAccount of ${name}`,
    async () => (await adminRequest(plane, 'GET', `/api/v1/namespaces/${name}/serviceaccounts/default`)).status === 200,
    30_000,
    plane.processes
  );
}

/** Audit-log entries of one user's requests since `sinceMs` (needs `audit: true`). */
export function auditEntries(plane, user, sinceMs = 0) {
  if (!plane.auditLog) throw new Error('startControlPlane({ audit: true }) writes the audit log');
  const text = fs.existsSync(plane.auditLog) ? fs.readFileSync(plane.auditLog, 'utf8') : '';
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.user?.username === user && Date.parse(entry.requestReceivedTimestamp) >= sinceMs);
}

/**
 * Starts the control plane in `dir` (certificates, etcd data, logs, kubeconfig). Rejects with the
 * failing component's log tail when something does not come up.
 */
export async function startControlPlane({ dir, crds = true, audit = false }) {
  const started = Date.now();
  const cache = ensureKubeBinaries();
  const bin = (name) => path.join(cache, 'bin', name);
  fs.mkdirSync(dir, { recursive: true });
  const certs = path.join(dir, 'certs');
  makeCertificates(certs);
  const [etcdClient, etcdPeer, apiPort, cmPort, schedPort, kwokPort, unreachablePort] = await Promise.all(
    Array.from({ length: 7 }, freePort)
  );
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, kubeconfigYaml(certs, server, `https://127.0.0.1:${unreachablePort}`), { mode: 0o600 });
  // The components use a kubeconfig of their own whose only context is the admin's.
  const componentConfig = path.join(dir, 'components.kubeconfig');
  fs.writeFileSync(componentConfig, kubeconfigYaml(certs, server, `https://127.0.0.1:${unreachablePort}`), { mode: 0o600 });

  const processes = [];
  const plane = {
    dir,
    kubeconfig,
    server,
    certs,
    context: CONTEXT,
    viewerContext: VIEWER_CONTEXT,
    operatorContext: OPERATOR_CONTEXT,
    unreachableContext: UNREACHABLE_CONTEXT,
    processes,
    auditLog: null
  };
  const launch = (name, args) => {
    const log = path.join(dir, `${name}.log`);
    const out = fs.openSync(log, 'a');
    const child = spawn(bin(name), args, { stdio: ['ignore', out, out], detached: false });
    fs.closeSync(out);
    processes.push({ name, child, log });
    return child;
  };
  plane.stop = async () => {
    for (const { child } of [...processes].reverse()) if (child.exitCode === null) child.kill('SIGTERM');
    const deadline = Date.now() + 10_000;
    while (processes.some((p) => p.child.exitCode === null && p.child.signalCode === null) && Date.now() < deadline) await sleep(50);
    for (const { child } of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };

  try {
    launch('etcd', [
      '--data-dir',
      path.join(dir, 'etcd'),
      '--listen-client-urls',
      `http://127.0.0.1:${etcdClient}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster',
      `default=http://127.0.0.1:${etcdPeer}`,
      '--listen-metrics-urls',
      '',
      '--log-level',
      'warn',
      '--quota-backend-bytes',
      String(2 * 1024 ** 3)
    ]);
    const auditArgs = [];
    if (audit) {
      plane.auditLog = path.join(dir, 'audit.log');
      const policy = path.join(dir, 'audit-policy.yaml');
      fs.writeFileSync(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: ["RequestReceived"]\nrules:\n- level: Metadata\n');
      auditArgs.push(
        '--audit-policy-file',
        policy,
        '--audit-log-path',
        plane.auditLog,
        '--audit-log-format',
        'json',
        '--audit-log-mode',
        'batch'
      );
    }
    const c = (file) => path.join(certs, file);
    launch('kube-apiserver', [
      '--etcd-servers',
      `http://127.0.0.1:${etcdClient}`,
      '--bind-address',
      '127.0.0.1',
      '--advertise-address',
      '127.0.0.1',
      '--secure-port',
      String(apiPort),
      '--cert-dir',
      certs,
      '--tls-cert-file',
      c('apiserver.crt'),
      '--tls-private-key-file',
      c('apiserver.key'),
      '--client-ca-file',
      c('ca.crt'),
      '--service-account-key-file',
      c('sa.pub'),
      '--service-account-signing-key-file',
      c('sa.key'),
      '--service-account-issuer',
      'https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range',
      '10.96.0.0/16',
      '--authorization-mode',
      'Node,RBAC',
      '--requestheader-client-ca-file',
      c('front-proxy-ca.crt'),
      '--requestheader-allowed-names',
      'front-proxy-client',
      '--requestheader-extra-headers-prefix',
      'X-Remote-Extra-',
      '--requestheader-group-headers',
      'X-Remote-Group',
      '--requestheader-username-headers',
      'X-Remote-User',
      '--proxy-client-cert-file',
      c('front-proxy-client.crt'),
      '--proxy-client-key-file',
      c('front-proxy-client.key'),
      // A loopback advertise address is refused by the endpoint reconciler; nothing needs the
      // `kubernetes` Service's endpoints here.
      '--endpoint-reconciler-type',
      'none',
      '--v',
      '1',
      ...auditArgs
    ]);
    await waitFor('kube-apiserver /readyz', async () => (await adminRequest(plane, 'GET', '/readyz')).status === 200, 90_000, processes);
    launch('kube-controller-manager', [
      '--kubeconfig',
      componentConfig,
      '--bind-address',
      '127.0.0.1',
      '--secure-port',
      String(cmPort),
      '--leader-elect=false',
      // nodeipam and attachdetach need what KWOK nodes lack; the node lifecycle controller stays:
      // it removes the not-ready taint once KWOK reports a node Ready.
      '--controllers',
      '*,-nodeipam,-attachdetach',
      // On a busy two-core CI machine KWOK's node heartbeats can lag past the default 50 s grace;
      // the controller then marks the nodes NotReady and a Ready deployment's pods unready for good
      // (KWOK does not make a pod Ready twice). A simulated node is never really gone.
      '--node-monitor-grace-period',
      '10m',
      '--service-account-private-key-file',
      c('sa.key'),
      '--root-ca-file',
      c('ca.crt'),
      '--use-service-account-credentials=false',
      '--v',
      '1'
    ]);
    launch('kube-scheduler', [
      '--kubeconfig',
      componentConfig,
      '--bind-address',
      '127.0.0.1',
      '--secure-port',
      String(schedPort),
      '--leader-elect=false',
      '--v',
      '1'
    ]);
    launch('kwok', [
      '--kubeconfig',
      componentConfig,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector',
      'kwok.x-k8s.io/node=fake',
      '--cidr',
      '10.0.0.0/16',
      '--node-ip',
      '10.0.0.1',
      '--server-address',
      `127.0.0.1:${kwokPort}`,
      '--config',
      path.join(cache, 'kwok-stages.yaml')
    ]);
    // RBAC: the viewer may read everything and write nothing.
    const binding = await adminRequest(plane, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'runlab-test-viewer' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'runlab-test-viewer' }]
    });
    if (binding.status >= 300) throw new Error(`Could not bind the viewer: ${JSON.stringify(binding.body)}`);
    for (const name of NODE_NAMES) {
      const node = await adminRequest(plane, 'POST', '/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
          labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' }
        },
        spec: {},
        status: { capacity: NODE_CAPACITY, allocatable: NODE_CAPACITY }
      });
      if (node.status >= 300) throw new Error(`Could not create node ${name}: ${JSON.stringify(node.body)}`);
    }
    await waitFor(
      'the KWOK nodes to be Ready and untainted',
      async () => {
        const nodes = (await adminRequest(plane, 'GET', '/api/v1/nodes')).body.items ?? [];
        return (
          nodes.length === NODE_NAMES.length &&
          nodes.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !(n.spec?.taints ?? []).length)
        );
      },
      60_000,
      processes
    );
    await waitFor(
      'the default ServiceAccount',
      async () => (await adminRequest(plane, 'GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
      30_000,
      processes
    );
    if (crds) await installKServeCrd(plane, path.join(cache, 'kserve-inferenceservice-crd.yaml'));
  } catch (error) {
    await plane.stop();
    throw error;
  }
  plane.startedInMs = Date.now() - started;
  return plane;
}
