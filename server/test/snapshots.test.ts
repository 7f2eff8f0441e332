import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Run } from '../src/contract';
import { expectErrorBody, makeTempDir, removeDir, startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

const git = (args: string[], cwd?: string): string => execFileSync('git', args, { cwd, encoding: 'utf8' });

function notebook(source: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, widgets: { state: {} } },
    cells: [
      { id: 'a1', cell_type: 'markdown', metadata: {}, source: '# Demo' },
      {
        id: 'b2',
        cell_type: 'code',
        execution_count: 7,
        metadata: { execution: { 'iopub.status.idle': '2024-01-01T00:00:00Z' }, tags: ['train'] },
        outputs: [{ output_type: 'stream', name: 'stdout', text: 'accuracy 0.93\n' }],
        source
      }
    ],
    ...extra
  };
}

async function run(project: string): Promise<Run> {
  return (await server.request('POST', '/api/runs', { json: { project, notebookPath: 'demo.ipynb' } })).body;
}

test('a snapshot commits the stripped notebook and modules; an unchanged notebook reuses the commit; git can clone, log and fsck', async () => {
  const first = await run('snap');
  const created = await server.request('POST', `/api/runs/${first.id}/snapshot`, {
    json: { notebookPath: 'demo.ipynb', notebook: notebook('fit()'), files: [{ path: 'lib/model.py', content: 'def fit():\n    pass\n' }] }
  });
  expect(created.status).toBe(201);
  expect(created.body).toEqual({
    commit: expect.stringMatching(/^[0-9a-f]{40}$/),
    notebookPath: 'demo.ipynb',
    files: ['demo.ipynb', 'lib/model.py'],
    reused: false
  });
  const withSnapshot = await server.request('GET', `/api/runs/${first.id}`);
  expect(withSnapshot.body.snapshot).toEqual(created.body);

  // Same notebook, different outputs and execution metadata: the stripped content is identical.
  const second = await run('snap');
  const again = await server.request('POST', `/api/runs/${second.id}/snapshot`, {
    json: {
      notebookPath: 'demo.ipynb',
      notebook: {
        ...notebook('fit()'),
        cells: (notebook('fit()').cells as { cell_type?: string }[]).map((cell) =>
          cell.cell_type === 'code' ? { ...cell, execution_count: 99, outputs: [] } : cell
        )
      },
      files: [{ path: 'lib/model.py', content: 'def fit():\n    pass\n' }]
    }
  });
  expect(again.body).toEqual({ ...created.body, reused: true });

  const third = await run('snap');
  const changed = await server.request('POST', `/api/runs/${third.id}/snapshot`, {
    json: { notebookPath: 'demo.ipynb', notebook: notebook('fit(epochs=3)') }
  });
  expect(changed.body.reused).toBe(false);
  expect(changed.body.commit).not.toBe(created.body.commit);

  const stored = await server.request('GET', `/api/runs/${first.id}/snapshot/notebook`);
  expect(stored.status).toBe(200);
  const code = stored.body.notebook.cells[1];
  expect(code).toMatchObject({ execution_count: null, outputs: [], metadata: { tags: ['train'] }, source: 'fit()' });
  expect(code.metadata.execution).toBeUndefined();
  expect(stored.body.notebook.metadata.widgets).toBeUndefined();

  const repo = path.join(server.dataDir, 'projects', `${first.projectId}.git`);
  git(['fsck', '--strict', '--full'], repo);
  const work = makeTempDir('runlab-snap-clone-');
  try {
    const clone = path.join(work, 'clone');
    git(['clone', '--quiet', repo, clone]);
    const log = git(['log', '--format=%H|%an <%ae>|%s'], clone).trim().split('\n');
    expect(log).toEqual([
      `${changed.body.commit}|Runlab <runlab@localhost>|Snapshot of demo.ipynb for run ${third.name} (${third.id})`,
      `${created.body.commit}|Runlab <runlab@localhost>|Snapshot of demo.ipynb for run ${first.name} (${first.id})`,
      expect.stringMatching(/\|Create project snap$/)
    ]);
    // The later commit kept the module and the README from earlier commits.
    expect(fs.readFileSync(path.join(clone, 'lib', 'model.py'), 'utf8')).toBe('def fit():\n    pass\n');
    expect(fs.existsSync(path.join(clone, 'README.md'))).toBe(true);
    const file = fs.readFileSync(path.join(clone, 'demo.ipynb'), 'utf8');
    expect(file.startsWith('{\n "cells": [')).toBe(true); // nbformat layout: sorted keys, one-space indent
    expect(file.endsWith('}\n')).toBe(true);
    expect(file).not.toContain('accuracy 0.93');
    git(['fsck', '--strict', '--full'], clone);
  } finally {
    removeDir(work);
  }
});

test('a second snapshot of one run is 409; a run without one has no notebook (404)', async () => {
  const one = await run('snap-409');
  expectErrorBody(await server.request('GET', `/api/runs/${one.id}/snapshot/notebook`), 404, 'not_found');
  const body = { notebookPath: 'demo.ipynb', notebook: notebook('x') };
  expect((await server.request('POST', `/api/runs/${one.id}/snapshot`, { json: body })).status).toBe(201);
  expectErrorBody(await server.request('POST', `/api/runs/${one.id}/snapshot`, { json: body }), 409, 'conflict');
  expectErrorBody(await server.request('POST', '/api/runs/missing/snapshot', { json: body }), 404, 'not_found');
});

test('RUNLAB_SNAPSHOT_KEEP_OUTPUTS=1 keeps outputs', async () => {
  const keeping = await startServer({ env: { RUNLAB_SNAPSHOT_KEEP_OUTPUTS: '1' } });
  try {
    const created = (await keeping.request('POST', '/api/runs', { json: { project: 'keep' } })).body;
    await keeping.request('POST', `/api/runs/${created.id}/snapshot`, { json: { notebookPath: 'n.ipynb', notebook: notebook('y') } });
    const stored = await keeping.request('GET', `/api/runs/${created.id}/snapshot/notebook`);
    expect(stored.body.notebook.cells[1]).toMatchObject({ execution_count: 7, outputs: [{ text: 'accuracy 0.93\n' }] });
  } finally {
    await keeping.destroy();
  }
});

test('bad snapshot paths and bodies are 400 with field paths, and nothing is committed', async () => {
  const target = await run('snap-bad');
  const head = (await server.request('GET', `/api/projects/${target.projectId}`)).body.headCommit;
  const cases: [unknown, string][] = [
    [{ notebookPath: '../x.ipynb', notebook: {} }, 'body.notebookPath'],
    [{ notebookPath: '/abs.ipynb', notebook: {} }, 'body.notebookPath'],
    [{ notebookPath: 'a.ipynb', notebook: {}, files: [{ path: 'a\\b.py', content: '' }] }, 'body.files.0.path'],
    [{ notebookPath: 'a.ipynb', notebook: {}, files: [{ path: 'x//y.py', content: '' }] }, 'body.files.0.path'],
    [{ notebookPath: 'a.ipynb', notebook: {}, files: [{ path: '.git/config', content: '' }] }, 'body.files.0.path'],
    [{ notebookPath: 'a.ipynb', notebook: {}, files: [{ path: 'a.ipynb/x.py', content: '' }] }, 'body.notebookPath'],
    [
      {
        notebookPath: 'a.ipynb',
        notebook: {},
        files: [
          { path: 'm.py', content: '' },
          { path: 'm.py', content: 'x' }
        ]
      },
      'body.files.1.path'
    ],
    [{ notebookPath: 'train.py', notebook: null }, 'body.notebookPath'],
    [{ notebookPath: 'a.ipynb', notebook: [] }, 'body.notebook'],
    [{ notebookPath: 'a.ipynb', notebook: {}, files: [{ path: 'm.py', content: 3 }] }, 'body.files.0.content'],
    [{ notebookPath: 'a.ipynb', notebook: {}, commit: 'abc' }, 'body.commit']
  ];
  for (const [json, field] of cases) {
    const response = await server.request('POST', `/api/runs/${target.id}/snapshot`, { json });
    expectErrorBody(response, 400, 'invalid_request');
    expect(response.body.error.details.map((detail: { path: string }) => detail.path)).toContain(field);
  }
  expect((await server.request('GET', `/api/projects/${target.projectId}`)).body.headCommit).toBe(head);
  expect((await server.request('GET', `/api/runs/${target.id}`)).body.snapshot).toBeNull();
});

test('a script run snapshots its files; a 1 MB notebook commits within budget', async () => {
  const script = await run('snap-script');
  const response = await server.request('POST', `/api/runs/${script.id}/snapshot`, {
    json: { notebookPath: 'train.py', notebook: null, files: [{ path: 'train.py', content: 'print(1)\n' }] }
  });
  expect(response.body).toMatchObject({ notebookPath: 'train.py', files: ['train.py'], reused: false });
  expectErrorBody(await server.request('GET', `/api/runs/${script.id}/snapshot/notebook`), 404, 'not_found');

  const big = await run('snap-big');
  const cells = Array.from({ length: 1000 }, (_, index) => ({
    id: `c${index}`,
    cell_type: 'code',
    execution_count: null,
    metadata: {},
    outputs: [],
    source: `x = ${index}\n${'#'.repeat(1000)}`
  }));
  const started = process.hrtime.bigint();
  const committed = await server.app.snapshots.create(big.id, {
    notebookPath: 'big.ipynb',
    notebook: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells },
    files: []
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  expect(committed.reused).toBe(false);
  // Printed, not asserted: benchmarks never gate tests on wall-clock time.
  process.stdout.write(`snapshot commit of a ${(JSON.stringify(cells).length / 1e6).toFixed(2)} MB notebook: ${ms.toFixed(1)} ms\n`);
});

test('modules sent when the run starts are committed with the notebook the browser sends later', async () => {
  const created = await server.request('POST', '/api/runs', {
    json: {
      project: 'pending-modules',
      notebookPath: 'train.ipynb',
      moduleFiles: [
        { path: 'features.py', content: 'def build():\n    return 1\n' },
        { path: 'pkg/util.py', content: 'X = 1\n' }
      ]
    }
  });
  expect(created.status).toBe(201);
  const snapshot = await server.request('POST', `/api/runs/${created.body.id}/snapshot`, {
    // The browser sends the notebook alone (its kernel is busy); a file it does send wins.
    json: { notebookPath: 'train.ipynb', notebook: notebook('build()'), files: [{ path: 'pkg/util.py', content: 'X = 2\n' }] }
  });
  expect(snapshot.status).toBe(201);
  expect(snapshot.body.files).toEqual(['features.py', 'pkg/util.py', 'train.ipynb']);
  const project = (await server.request('GET', '/api/projects?name=pending-modules')).body.projects[0];
  const gitDir = path.join(server.dataDir, 'projects', `${project.id}.git`);
  expect(git(['--git-dir', gitDir, 'show', `${snapshot.body.commit}:features.py`])).toBe('def build():\n    return 1\n');
  expect(git(['--git-dir', gitDir, 'show', `${snapshot.body.commit}:pkg/util.py`])).toBe('X = 2\n');
});

test('module files with unsafe paths are refused when the run starts', async () => {
  const response = await server.request('POST', '/api/runs', {
    json: { project: 'pending-modules', moduleFiles: [{ path: '../escape.py', content: '' }] }
  });
  expectErrorBody(response, 400, 'invalid_request');
  expect(JSON.stringify(response.body.error.details)).toContain('body.moduleFiles.0.path');
});
