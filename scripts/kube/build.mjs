/**
 * The test control plane's binaries, built from the Go module proxy (no container runtime or
 * release tarball exists on these machines): kube-apiserver, kube-controller-manager and
 * kube-scheduler from k8s.io/kubernetes, etcd, and KWOK (which simulates nodes and the pod
 * lifecycle), plus KWOK's stage files and KServe's InferenceService CRD.
 *
 * They go into a cache outside the checkout keyed by their versions (RUNLAB_KUBE_CACHE, default
 * ~/.cache/runlab/kube/<versions>) and are reused while present: the cold build takes about
 * ten minutes on two cores, a warm one nothing. Nothing of this is ever committed.
 *
 * `node scripts/kube/build.mjs` builds them on its own and prints the folder.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const KUBERNETES_VERSION = 'v1.37.2';
/** The published staging modules (k8s.io/api, client-go, …) of that Kubernetes release. */
const STAGING_VERSION = 'v0.37.2';
export const ETCD_VERSION = 'v3.7.3';
export const KWOK_VERSION = 'v0.8.0';
export const KSERVE_VERSION = 'v0.15.2';

export const KUBE_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd', 'kwok'];

/** The cache folder of this set of versions. */
export function kubeCacheDir() {
  const root = process.env.RUNLAB_KUBE_CACHE || path.join(os.homedir(), '.cache', 'runlab', 'kube');
  return path.join(root, `k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}`);
}

/** KWOK stages: nodes become Ready and keep their lease; pods become Ready and go away when deleted. */
const KWOK_STAGES = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml'
];
const KSERVE_CRD = 'config/crd/full/serving.kserve.io_inferenceservices.yaml';

function say(message) {
  process.stdout.write(`[runlab] ${message}\n`);
}

function go(args, cwd, env = {}) {
  const result = spawnSync('go', args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod -buildvcs=false', GOTOOLCHAIN: 'local', ...env }
  });
  if (result.error?.code === 'ENOENT') {
    throw new Error('The Kubernetes tests build their control plane with Go, which is missing: install Go 1.26 (https://go.dev/dl/).');
  }
  if (result.status !== 0) {
    throw new Error(`\`go ${args.join(' ')}\` failed in ${cwd}:\n${(result.stderr || result.stdout).slice(-4000)}`);
  }
  return result.stdout;
}

/** Where `go mod download` put a module's source. */
function moduleDir(module, version, cwd) {
  return JSON.parse(go(['mod', 'download', '-json', `${module}@${version}`], cwd)).Dir;
}

/**
 * A module that requires k8s.io/kubernetes and KWOK. Kubernetes's own go.mod replaces each
 * staging module with its folder in the repository; here each is replaced with its published
 * version instead, so the module proxy alone is enough.
 */
function writeKubernetesModule(dir) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'go.mod'), 'module runlab.local/kube\n\ngo 1.26\n');
  const source = moduleDir('k8s.io/kubernetes', KUBERNETES_VERSION, dir);
  const kubernetesGoMod = fs.readFileSync(path.join(source, 'go.mod'), 'utf8');
  const staging = [...kubernetesGoMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)].map((m) => m[1]);
  if (staging.length < 20) {
    throw new Error(`Found only ${staging.length} staging replaces in k8s.io/kubernetes ${KUBERNETES_VERSION}'s go.mod.`);
  }
  const replaces = staging.map((module) => `\t${module} => ${module} ${STAGING_VERSION}`).join('\n');
  fs.writeFileSync(
    path.join(dir, 'go.mod'),
    `module runlab.local/kube\n\ngo 1.26\n\nrequire (\n\tk8s.io/kubernetes ${KUBERNETES_VERSION}\n\tsigs.k8s.io/kwok ${KWOK_VERSION}\n)\n\nreplace (\n${replaces}\n)\n`
  );
  // Blank imports keep `go mod tidy` from dropping what only `go build` names.
  fs.writeFileSync(
    path.join(dir, 'tools.go'),
    '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager"\n\t_ "k8s.io/kubernetes/cmd/kube-scheduler"\n\t_ "sigs.k8s.io/kwok/cmd/kwok"\n)\n'
  );
  go(['mod', 'tidy'], dir);
}

/** etcd's main package is its module root, and its go.mod has replaces: build it as a dependency. */
function writeEtcdModule(dir) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'go.mod'), `module runlab.local/etcd\n\ngo 1.26\n\nrequire go.etcd.io/etcd/server/v3 ${ETCD_VERSION}\n`);
  fs.writeFileSync(path.join(dir, 'tools.go'), '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n');
  go(['mod', 'tidy'], dir);
}

function versionFlags() {
  const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');
  // Without these the server reports v0.0.0, and clients that check versions complain.
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']
    .flatMap((pkg) => [`-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`])
    .concat(['-s', '-w'])
    .join(' ');
}

/** Whether the cache folder has every binary and file the control plane needs. */
export function kubeBinariesPresent(dir = kubeCacheDir()) {
  return (
    KUBE_BINARIES.every((name) => fs.existsSync(path.join(dir, 'bin', name))) &&
    fs.existsSync(path.join(dir, 'kwok-stages.yaml')) &&
    fs.existsSync(path.join(dir, 'kserve-inferenceservice-crd.yaml'))
  );
}

/**
 * Build whatever is missing from the cache and return its folder. Each binary is written under a
 * temporary name and renamed when whole, so an interrupted build never leaves a broken binary.
 */
export function ensureKubeBinaries() {
  const dir = kubeCacheDir();
  if (kubeBinariesPresent(dir)) return dir;
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const started = Date.now();
  say(`Building the Kubernetes test control plane (${KUBERNETES_VERSION}, etcd ${ETCD_VERSION}, KWOK ${KWOK_VERSION}) into ${dir}`);
  say('This happens once per version: about 10 minutes on two cores, then it is reused.');
  const kubeModule = path.join(dir, 'src', 'kube');
  const etcdModule = path.join(dir, 'src', 'etcd');
  const build = (name, pkg, module, flags = []) => {
    const target = path.join(bin, name);
    if (fs.existsSync(target)) return;
    const t0 = Date.now();
    say(`  go build ${pkg} …`);
    go(['build', '-trimpath', ...flags, '-o', `${target}.partial`, pkg], module);
    fs.renameSync(`${target}.partial`, target);
    say(`  ${name} built (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  };
  if (!fs.existsSync(path.join(kubeModule, 'go.sum'))) writeKubernetesModule(kubeModule);
  if (!fs.existsSync(path.join(etcdModule, 'go.sum'))) writeEtcdModule(etcdModule);
  build('etcd', 'go.etcd.io/etcd/server/v3', etcdModule, ['-ldflags', '-s -w']);
  build('kwok', 'sigs.k8s.io/kwok/cmd/kwok', kubeModule, ['-ldflags', '-s -w']);
  build('kube-scheduler', 'k8s.io/kubernetes/cmd/kube-scheduler', kubeModule, ['-ldflags', versionFlags()]);
  build('kube-controller-manager', 'k8s.io/kubernetes/cmd/kube-controller-manager', kubeModule, ['-ldflags', versionFlags()]);
  build('kube-apiserver', 'k8s.io/kubernetes/cmd/kube-apiserver', kubeModule, ['-ldflags', versionFlags()]);

  const kwokSource = moduleDir('sigs.k8s.io/kwok', KWOK_VERSION, kubeModule);
  const stages = KWOK_STAGES.map((file) => fs.readFileSync(path.join(kwokSource, file), 'utf8').trim()).join('\n---\n');
  fs.writeFileSync(path.join(dir, 'kwok-stages.yaml'), `${stages}\n`);
  const kserveSource = moduleDir('github.com/kserve/kserve', KSERVE_VERSION, kubeModule);
  fs.copyFileSync(path.join(kserveSource, KSERVE_CRD), path.join(dir, 'kserve-inferenceservice-crd.yaml'));
  say(`Kubernetes test control plane built in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  return dir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(`${ensureKubeBinaries()}\n`);
  } catch (error) {
    process.stderr.write(`[runlab] ${error.message}\n`);
    process.exit(1);
  }
}
