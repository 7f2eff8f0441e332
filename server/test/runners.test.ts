/**
 * Runners and jobs against a real server. The runner agents here are lightweight simulations
 * written with socket.io-client: they speak the `/runners` protocol (hello, offers, events,
 * heartbeats, completion) but execute nothing. The real agent process (`runlab runner start`,
 * which executes notebooks) is tested from Python, in python/tests/test_runners.py.
 */
import BetterSqlite3 from 'better-sqlite3';
import { io as connect, type Socket } from 'socket.io-client';
import {
  ATTEMPT_HEADER,
  JOB_TAGS,
  type ClientToServerEvents,
  type Job,
  type JobEvent,
  type JobOffer,
  type Run,
  type RunnerClientEvents,
  type RunnerHello,
  type RunnerServerEvents,
  type RunnerWelcome,
  type ServerToClientEvents
} from '../src/contract';
import { commit, textChunk, uploadChunks } from './dataset-helpers';
import { expectErrorBody, makeTempDir, removeDir, startServer, type TestServer } from './helpers';

const CAPACITY = { cpus: 4, memoryBytes: 8 * 1024 ** 3, gpus: [], os: 'Linux', python: '3.12.1' };

const until = async (condition: () => boolean, timeoutMs = 8000, what = 'condition'): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A notebook with a `parameters` cell and (optionally) dataset pins in its metadata. */
function notebook(parameters = 'epochs = 10  # passes\nlr = 0.1\nname = "mnist"\nlayers: list = [64, 32]', pins?: Record<string, string>) {
  return {
    cells: [
      { cell_type: 'code', metadata: { tags: ['parameters'] }, source: parameters, outputs: [], execution_count: null, id: 'p' },
      { cell_type: 'code', metadata: {}, source: 'print(epochs)', outputs: [], execution_count: null, id: 'c' }
    ],
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
      ...(pins ? { runlab: { datasets: pins } } : {})
    },
    nbformat: 4,
    nbformat_minor: 5
  };
}

type AgentSocket = Socket<RunnerServerEvents, RunnerClientEvents>;

/** A simulated runner agent: records what the server sends, answers offers with `accept`. */
class SimulatedRunner {
  readonly offers: JobOffer[] = [];
  readonly cancels: { attemptId: string; outcome: string }[] = [];
  readonly revoked: string[] = [];
  disconnected = false;
  accept = true;
  welcome!: RunnerWelcome;

  private constructor(readonly socket: AgentSocket) {
    socket.on('job:offer', (offer, ack) => {
      this.offers.push(offer);
      ack({ accepted: this.accept });
    });
    socket.on('job:cancel', (notice) => this.cancels.push(notice));
    socket.on('runner:revoked', ({ message }) => this.revoked.push(message));
    socket.on('disconnect', () => {
      this.disconnected = true;
    });
  }

  static async start(url: string, token: string, hello: Partial<RunnerHello> = {}): Promise<SimulatedRunner> {
    const socket: AgentSocket = connect(`${url}/runners`, { auth: { token }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const runner = new SimulatedRunner(socket);
    const reply = await socket.emitWithAck('runner:hello', {
      capacity: CAPACITY,
      maxJobs: 1,
      version: 'test',
      labels: [],
      attempts: [],
      ...hello
    });
    if (!reply.ok) throw new Error(`hello refused: ${reply.message}`);
    runner.welcome = reply;
    return runner;
  }

  async offer(index = 0): Promise<JobOffer> {
    await until(() => this.offers.length > index, 8000, `offer ${index}`);
    return this.offers[index];
  }

  events(attemptId: string, events: JobEvent[]) {
    return this.socket.emitWithAck('job:event', { attemptId, events });
  }

  complete(attemptId: string, status: 'finished' | 'failed' | 'cancelled' | 'timed_out', error: string | null = null) {
    return this.socket.emitWithAck('job:complete', { attemptId, status, error, failedCell: null, durationS: 1.5 });
  }

  heartbeat(attempts: string[]) {
    return this.socket.emitWithAck('runner:heartbeat', { attempts });
  }

  /** Heartbeats for every attempt it was offered, as an agent does, until stopped. */
  keepAlive(everyMs = 150): () => void {
    const timer = setInterval(() => {
      // A beat still in flight when the test disconnects is rejected; nothing waits for it.
      this.heartbeat(this.offers.map((offer) => offer.attemptId)).catch(() => undefined);
    }, everyMs);
    return () => clearInterval(timer);
  }

  stop(): void {
    this.socket.disconnect();
  }
}

async function addRunner(server: TestServer, name: string, labels: string[] = []) {
  const response = await server.request('POST', '/api/runners', { json: { name, labels } });
  expect(response.status).toBe(201);
  return response.body as { runner: { id: string; name: string }; token: string; command: string };
}

async function submit(server: TestServer, body: Record<string, unknown>) {
  return server.request('POST', '/api/jobs', { json: { notebookPath: 'train.ipynb', notebook: notebook(), ...body } });
}

async function job(server: TestServer, id: string): Promise<Job> {
  return (await server.request('GET', `/api/jobs/${id}`)).body as Job;
}

async function run(server: TestServer, id: string): Promise<Run> {
  return (await server.request('GET', `/api/runs/${id}`)).body as Run;
}

async function runCount(server: TestServer, project: string): Promise<number> {
  return ((await server.request('GET', `/api/runs?project=${project}`)).body as { total: number }).total;
}

function logPoints(server: TestServer, runId: string, token: string, attemptId: string, values: number[]) {
  return server.request('POST', `/api/runs/${runId}/log`, {
    token,
    headers: { [ATTEMPT_HEADER]: attemptId },
    json: {
      idempotencyKey: `points-${attemptId}-${values.join('-')}`,
      metrics: values.map((value, step) => ({ key: 'loss', value, step }))
    }
  });
}

let agents: SimulatedRunner[] = [];
const started = async (url: string, token: string, hello: Partial<RunnerHello> = {}): Promise<SimulatedRunner> => {
  const agent = await SimulatedRunner.start(url, token, hello);
  agents.push(agent);
  return agent;
};

/** Leaves no runner connected and no job waiting or running for the next test. */
async function tidy(server: TestServer): Promise<void> {
  for (const agent of agents) agent.stop();
  agents = [];
  await sleep(50);
  // A running job whose agent is gone ends as cancelled when its lease passes, instead of coming back.
  for (const status of ['queued', 'running']) {
    const listed = (await server.request('GET', `/api/jobs?status=${status}`)).body as { jobs: Job[] };
    for (const leftover of listed.jobs) await server.request('POST', `/api/jobs/${leftover.id}/cancel`);
  }
}

describe('with the default lease', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterEach(() => tidy(server));
  afterAll(() => server.destroy());

  test('adding a runner answers its token once and the exact command to start it; a taken name is a 409', async () => {
    const added = await addRunner(server, 'gpu-box', ['gpu', 'bigmem']);
    expect(added.token).toMatch(/^rl_r_/);
    expect(added.command).toBe(`runlab runner start --server ${server.url} --token ${added.token} --name gpu-box --labels gpu,bigmem`);
    expect(added.runner).toMatchObject({ name: 'gpu-box', labels: ['gpu', 'bigmem'], status: 'offline', capacity: null, runningJobs: [] });
    const listed = (await server.request('GET', '/api/runners')).body as { runners: Record<string, unknown>[] };
    expect(listed.runners.find((runner) => runner.id === added.runner.id)).toBeDefined();
    expect(JSON.stringify(listed)).not.toContain(added.token);

    const again = await server.request('POST', '/api/runners', { json: { name: 'gpu-box' } });
    expectErrorBody(again, 409, 'conflict');
    expect(again.body.error.message).toMatch(/runner named "gpu-box" already exists/);
  });

  test('an agent may take fewer jobs at once than its runner was added with, never more', async () => {
    const response = await server.request('POST', '/api/runners', { json: { name: 'two-slots', maxJobs: 2 } });
    const { runner, token } = response.body as { runner: { id: string }; token: string };
    const low = await SimulatedRunner.start(server.url, token, { maxJobs: 1 });
    expect((await server.request('GET', `/api/runners/${runner.id}`)).body).toMatchObject({ maxJobs: 1, status: 'online' });
    low.stop();
    const high = await started(server.url, token, { maxJobs: 8 });
    expect(high.welcome.runnerId).toBe(runner.id);
    expect((await server.request('GET', `/api/runners/${runner.id}`)).body).toMatchObject({ maxJobs: 2 });
  });

  test('a runner token reaches no user route, and user tokens cannot open the runners socket', async () => {
    const { token } = await addRunner(server, 'no-access');
    const projects = await server.request('GET', '/api/projects', { token });
    expectErrorBody(projects, 403, 'forbidden');
    const datasets = await server.request('GET', '/api/projects/anything/datasets', { token });
    expectErrorBody(datasets, 403, 'forbidden');
    expect(datasets.body.error.message).toMatch(/cannot reach the datasets of project anything: .* it runs no job now/);
    const tokens = await server.request('GET', '/api/tokens', { token });
    expectErrorBody(tokens, 403, 'forbidden');
    expect(tokens.body.error.message).toMatch(/runner token reaches only runner endpoints/);
    const runs = await server.request('GET', '/api/runs', { token });
    expectErrorBody(runs, 403, 'forbidden');

    const refused = connect(`${server.url}/runners`, {
      auth: { token: server.adminToken },
      transports: ['websocket'],
      reconnection: false
    });
    const error = await new Promise<Error & { data?: { code: string; message: string } }>((resolve) =>
      refused.once('connect_error', resolve)
    );
    refused.disconnect();
    expect(error.data).toEqual({ code: 'forbidden', message: 'runner connections need a runner token: runlab runners add NAME' });
  });

  test('hello → offer → events → complete: the job and its run finish, with its log, metrics and executed notebook', async () => {
    const browser: Socket<ServerToClientEvents, ClientToServerEvents> = connect(server.url, {
      auth: { token: server.adminToken },
      transports: ['websocket'],
      reconnection: false
    });
    await new Promise<void>((resolve) => browser.once('connect', () => resolve()));
    const jobUpdates: Job[] = [];
    const outputs: unknown[] = [];
    browser.on('job:updated', (update) => jobUpdates.push(update));
    browser.on('job:output', (output) => outputs.push(output));

    const submitted = await submit(server, { project: 'happy', parameters: { epochs: 3, lr: 0.5 } });
    expect(submitted.status).toBe(201);
    const queued = submitted.body as Job;
    expect(queued).toMatchObject({ status: 'queued', name: 'train', parameters: { epochs: 3, lr: 0.5 }, attemptCount: 0 });
    expect(await browser.emitWithAck('project:join', { projectId: queued.projectId })).toEqual({ ok: true });
    const queuedRun = await run(server, queued.runId);
    expect(queuedRun).toMatchObject({ source: { kind: 'job' }, params: { epochs: '3', lr: '0.5' }, notebookPath: 'train.ipynb' });
    expect(queuedRun.tags[JOB_TAGS.job]).toBe(queued.id);
    expect(queuedRun.snapshot?.commit).toBe(queued.snapshotCommit);

    const { token } = await addRunner(server, 'happy-runner');
    const agent = await started(server.url, token);
    expect(agent.welcome).toMatchObject({ name: 'happy-runner', heartbeatMs: 5000, leaseMs: 30000, abandon: [] });
    const offer = await agent.offer();
    expect(offer).toMatchObject({
      jobId: queued.id,
      runId: queued.runId,
      attemptNumber: 1,
      parameters: { epochs: 3, lr: 0.5 },
      projectName: 'happy'
    });

    const fetched = await server.request('GET', `/api/runner/attempts/${offer.attemptId}/notebook`, { token });
    expect(fetched.status).toBe(200);
    expect(fetched.body.notebookPath).toBe('train.ipynb');
    expect(fetched.body.notebook.cells[0].source).toContain('epochs = 10');
    expect(fetched.body.packages).toBeNull();

    expect(
      await agent.events(offer.attemptId, [
        { type: 'started', cells: 2 },
        { type: 'cell', index: 0, of: 2, state: 'running' }
      ])
    ).toEqual({
      ok: true
    });
    expect(
      await agent.events(offer.attemptId, [
        { type: 'output', index: 1, stream: 'stdout', text: 'epoch 1 loss 0.9\n' },
        { type: 'cell', index: 1, of: 2, state: 'done' }
      ])
    ).toEqual({ ok: true });
    expect((await logPoints(server, queued.runId, token, offer.attemptId, [0.9, 0.5])).status).toBe(200);
    const executed = await server.request('PUT', `/api/runner/attempts/${offer.attemptId}/notebook`, {
      token,
      json: { ...notebook(), cells: [{ cell_type: 'code', source: 'print(1)', outputs: [{ output_type: 'stream', text: '1\n' }] }] }
    });
    expect(executed.status).toBe(204);
    expect(await agent.complete(offer.attemptId, 'finished')).toEqual({ ok: true });

    const finished = await job(server, queued.id);
    expect(finished).toMatchObject({
      status: 'finished',
      runnerName: 'happy-runner',
      attemptCount: 1,
      progress: { cells: 2, cell: 1, state: 'done' }
    });
    expect(finished.attempts).toEqual([expect.objectContaining({ number: 1, status: 'finished', runnerName: 'happy-runner' })]);
    const finishedRun = await run(server, queued.runId);
    expect(finishedRun.status).toBe('finished');
    expect(finishedRun.tags).toMatchObject({ [JOB_TAGS.runner]: 'happy-runner', [JOB_TAGS.attempts]: '1' });
    expect(finishedRun.artifacts.map((artifact) => artifact.path)).toContain('executed.ipynb');
    expect(finishedRun.metrics.loss).toMatchObject({ count: 2 });

    const log = await server.request('GET', `/api/jobs/${queued.id}/log`);
    expect(log.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(log.text).toMatch(/===== attempt 1 on runner happy-runner/);
    expect(log.text).toContain('epoch 1 loss 0.9\n');
    expect(log.text).toMatch(/attempt 1 finished/);

    await until(() => jobUpdates.some((update) => update.id === queued.id && update.status === 'finished'), 3000, 'job:updated finished');
    expect(outputs).toContainEqual(expect.objectContaining({ jobId: queued.id, attemptId: offer.attemptId }));
    browser.disconnect();

    // Its job over, the runner token no longer reaches the run.
    expectErrorBody(await server.request('GET', `/api/runs/${queued.runId}`, { token }), 403, 'forbidden');
  });

  test('a runner token reaches the run of the job it runs, and not another run (403)', async () => {
    const other = (await server.request('POST', '/api/runs', { json: { project: 'fenced' } })).body as Run;
    const queued = (await submit(server, { project: 'fenced' })).body as Job;
    const { token } = await addRunner(server, 'fenced-runner');
    const agent = await started(server.url, token);
    const offer = await agent.offer();
    expect((await server.request('GET', `/api/runs/${queued.runId}`, { token })).status).toBe(200);
    const refused = await server.request('GET', `/api/runs/${other.id}`, { token });
    expectErrorBody(refused, 403, 'forbidden');
    expect(refused.body.error.message).toMatch(/cannot reach run/);
    expectErrorBody(
      await server.request('POST', `/api/runs/${other.id}/log`, { token, json: { idempotencyKey: 'xxxxxxxxxx', params: { a: '1' } } }),
      403,
      'forbidden'
    );
    const attempt = await server.request('GET', `/api/runner/attempts/${offer.attemptId}/notebook`, {
      token: (await addRunner(server, 'bystander')).token
    });
    expectErrorBody(attempt, 403, 'forbidden');
    await agent.complete(offer.attemptId, 'finished');
  });

  test('parameters are checked against the parameters cell before anything is created', async () => {
    await server.request('POST', '/api/runs', { json: { project: 'params' } });
    const before = await runCount(server, 'params');

    const wrongType = await submit(server, { project: 'params', parameters: { epochs: 'ten' } });
    expectErrorBody(wrongType, 400, 'invalid_request');
    expect(wrongType.body.error.details).toEqual([
      { path: 'body.parameters.epochs', message: '`epochs` must be int (the parameters cell sets 10), got str "ten"' }
    ]);

    const unknown = await submit(server, { project: 'params', parameters: { epoch: 3, lr: 1 } });
    expectErrorBody(unknown, 400, 'invalid_request');
    expect(unknown.body.error.details).toEqual([
      {
        path: 'body.parameters.epoch',
        message: '`epoch` is not a parameter of this notebook; its parameters are: epochs, lr, name, layers (did you mean `epochs`?)'
      }
    ]);
    const list = await submit(server, { project: 'params', parameters: { layers: 3 } });
    expect(list.body.error.details[0].message).toBe('`layers` must be list (the parameters cell sets [64, 32]), got int 3');
    // An int is a fine float; a float literal (0.1) takes whole numbers too.
    expect((await submit(server, { project: 'params', parameters: { lr: 1, layers: [1] } })).status).toBe(201);
    expect(await runCount(server, 'params')).toBe(before + 1);
  });

  test('a job and what its owner records when it is queued commit together, and a failed record leaves no job and no run', async () => {
    await server.request('POST', '/api/runs', { json: { project: 'owned' } });
    const before = await runCount(server, 'owned');
    const input = {
      project: 'owned',
      notebookPath: 'train.ipynb',
      notebook: notebook(),
      files: [],
      parameters: {},
      datasets: {},
      labels: [],
      env: 'runner' as const,
      priority: 0,
      maxRetries: 2,
      timeoutS: null
    };
    // What a crash at the moment the owner (a sweep's trial) records the job would leave on disk:
    // what another connection to the database file sees as committed then.
    const committedJobs = (id: string): number => {
      const reader = new BetterSqlite3(server.app.layout.databaseFile, { readonly: true });
      try {
        return (reader.prepare('SELECT count(*) AS n FROM jobs WHERE id = ?').get(id) as { n: number }).n;
      } finally {
        reader.close();
      }
    };
    let seenByACrash: number | null = null;
    const job = await server.app.runners.submit(input, { onQueued: (queued) => (seenByACrash = committedJobs(queued.id)) });
    expect(seenByACrash).toBe(0);
    expect(committedJobs(job.id)).toBe(1);
    expect(await runCount(server, 'owned')).toBe(before + 1);

    await expect(
      server.app.runners.submit(input, {
        onQueued: () => {
          throw new Error('the owner could not record the job');
        }
      })
    ).rejects.toThrow('the owner could not record the job');
    const queued = (await server.request('GET', '/api/jobs?status=queued')).body as { jobs: Job[] };
    expect(queued.jobs.filter((listed) => listed.projectName === 'owned').map((listed) => listed.id)).toEqual([job.id]);
    expect(await runCount(server, 'owned')).toBe(before + 1);
  });

  test('an unknown snapshot commit is a 400 that says what to give; a known one is reused', async () => {
    const first = (await submit(server, { project: 'commits' })).body as Job;
    const unknown = await server.request('POST', '/api/jobs', {
      json: { project: 'commits', notebookPath: 'train.ipynb', commit: 'a'.repeat(40) }
    });
    expectErrorBody(unknown, 400, 'invalid_request');
    expect(unknown.body.error.message).toMatch(/not in the repository of project commits; give the snapshot commit of one of its runs/);
    const wrongPath = await server.request('POST', '/api/jobs', {
      json: { project: 'commits', notebookPath: 'other.ipynb', commit: first.snapshotCommit }
    });
    expectErrorBody(wrongPath, 400, 'invalid_request');
    const noProject = await server.request('POST', '/api/jobs', {
      json: { project: 'nowhere', notebookPath: 'train.ipynb', commit: first.snapshotCommit }
    });
    expectErrorBody(noProject, 404, 'not_found');

    const reused = await server.request('POST', '/api/jobs', {
      json: { project: 'commits', notebookPath: 'train.ipynb', commit: first.snapshotCommit, parameters: { epochs: 1 } }
    });
    expect(reused.status).toBe(201);
    expect((reused.body as Job).snapshotCommit).toBe(first.snapshotCommit);
    expect((await run(server, (reused.body as Job).runId)).snapshot).toMatchObject({ commit: first.snapshotCommit, reused: true });
  });

  test('dataset pins: the notebook’s, overridden by the request, each checked; the runner reaches its project’s datasets only', async () => {
    const chunk = textChunk('iris');
    await uploadChunks(server, [chunk]);
    expect((await commit(server, 'pins', 'iris', [{ path: 'iris.csv', chunks: [chunk] }])).status).toBe(201);
    expect((await commit(server, 'pins', 'iris', [{ path: 'iris2.csv', chunks: [chunk] }])).status).toBe(201);
    const before = await runCount(server, 'pins');

    const unknownVersion = await submit(server, {
      project: 'pins',
      notebook: notebook(undefined, { iris: 'v1' }),
      datasets: { iris: 'v9' }
    });
    expectErrorBody(unknownVersion, 400, 'invalid_request');
    expect(unknownVersion.body.error.details).toEqual([{ path: 'body.datasets.iris', message: expect.stringMatching(/iris@v9.*v9/) }]);
    const unknownDataset = await submit(server, { project: 'pins', notebook: notebook(undefined, { wine: 'v1' }) });
    expectErrorBody(unknownDataset, 400, 'invalid_request');
    expect(unknownDataset.body.error.message).toMatch(/Dataset wine@v1 is not in project pins/);
    expect(await runCount(server, 'pins')).toBe(before);

    const pinned = (await submit(server, { project: 'pins', notebook: notebook(undefined, { iris: 'latest' }) })).body as Job;
    expect(pinned.datasets).toEqual({ iris: 'v2' });
    expect((await run(server, pinned.runId)).inputs).toEqual([{ kind: 'dataset', name: 'iris@v2', digest: null }]);

    const { token } = await addRunner(server, 'pins-runner');
    const agent = await started(server.url, token);
    const offer = await agent.offer();
    expect(offer.datasets).toEqual({ iris: 'v2' });
    expect((await server.request('GET', '/api/projects/pins/datasets/iris/versions/v2/manifest', { token })).status).toBe(200);
    expect((await server.request('GET', '/api/projects/pins/datasets/iris/versions/latest', { token })).status).toBe(200);
    // An unpinned version of its project is what `runlab.dataset("iris@v1")` loads: reachable.
    expect((await server.request('GET', '/api/projects/pins/datasets/iris/versions/v1/manifest', { token })).status).toBe(200);
    // Another project's datasets are not.
    expect((await commit(server, 'other-pins', 'iris', [{ path: 'iris.csv', chunks: [chunk] }])).status).toBe(201);
    const elsewhere = await server.request('GET', '/api/projects/other-pins/datasets/iris/versions/v1/manifest', { token });
    expectErrorBody(elsewhere, 403, 'forbidden');
    expect(elsewhere.body.error.message).toMatch(/cannot reach the datasets of project other-pins/);
    await agent.complete(offer.attemptId, 'finished');
  });

  test('labels: a job goes only to a runner with every label it requires', async () => {
    const plain = await started(server.url, (await addRunner(server, 'plain')).token);
    const queued = (await submit(server, { project: 'labels', labels: ['gpu'] })).body as Job;
    await sleep(300);
    expect(plain.offers).toEqual([]);
    const gpu = await started(server.url, (await addRunner(server, 'gpu-runner', ['gpu'])).token);
    const offer = await gpu.offer();
    expect(offer.jobId).toBe(queued.id);
    expect(plain.offers).toEqual([]);
    await gpu.complete(offer.attemptId, 'finished');
  });

  test('an offer the runner declines goes back to the queue without spending a retry', async () => {
    const agent = await started(server.url, (await addRunner(server, 'picky')).token);
    agent.accept = false;
    const queued = (await submit(server, { project: 'declined', maxRetries: 0 })).body as Job;
    await agent.offer();
    await until(() => agent.offers.length >= 2, 5000, 'the second offer');
    agent.accept = true;
    await until(() => agent.offers.length >= 3, 5000, 'an accepted offer');
    const accepted = agent.offers.at(-1) as JobOffer;
    const running = await job(server, queued.id);
    expect(running.status).toBe('running');
    expect(running.attempts.filter((attempt) => attempt.status === 'abandoned').length).toBeGreaterThanOrEqual(2);
    expect(await agent.complete(accepted.attemptId, 'finished')).toEqual({ ok: true });
    expect((await job(server, queued.id)).status).toBe('finished');
  });

  test('cancel: a queued job at once, a running one through its runner; the runs are killed', async () => {
    const queued = (await submit(server, { project: 'cancel', labels: ['nobody-has-this'] })).body as Job;
    const cancelled = (await server.request('POST', `/api/jobs/${queued.id}/cancel`)).body as Job;
    expect(cancelled.status).toBe('cancelled');
    expect((await run(server, queued.runId)).status).toBe('killed');

    const agent = await started(server.url, (await addRunner(server, 'cancel-runner')).token);
    const running = (await submit(server, { project: 'cancel' })).body as Job;
    const offer = await agent.offer();
    expect(((await server.request('POST', `/api/jobs/${running.id}/cancel`)).body as Job).status).toBe('running');
    await until(() => agent.cancels.length > 0, 3000, 'job:cancel');
    expect(agent.cancels).toEqual([{ attemptId: offer.attemptId, outcome: 'cancelled' }]);
    expect((await agent.heartbeat([offer.attemptId])).ok).toBe(true);
    await agent.complete(offer.attemptId, 'cancelled');
    expect((await job(server, running.id)).status).toBe('cancelled');
    expect((await run(server, running.runId)).status).toBe('killed');
  });

  test('removing a runner revokes its token, disconnects it at once and requeues its job', async () => {
    const added = await addRunner(server, 'doomed');
    const agent = await started(server.url, added.token);
    const queued = (await submit(server, { project: 'removal' })).body as Job;
    const offer = await agent.offer();
    expect((await server.request('DELETE', `/api/runners/${added.runner.id}`)).status).toBe(204);
    await until(() => agent.disconnected, 2000, 'the disconnect');
    expect(agent.revoked).toHaveLength(1);
    const requeued = await job(server, queued.id);
    expect(requeued.status).toBe('queued');
    expect(requeued.attempts).toEqual([expect.objectContaining({ id: offer.attemptId, status: 'abandoned' })]);
    expectErrorBody(await server.request('GET', `/api/runners/${added.runner.id}`), 404, 'not_found');
    expectErrorBody(await server.request('GET', '/api/runs', { token: added.token }), 401, 'unauthorized');
  });

  test('draining a runner stops its offers; browsers hear runner:updated and runner:removed', async () => {
    const browser: Socket<ServerToClientEvents, ClientToServerEvents> = connect(server.url, {
      auth: { token: server.adminToken },
      transports: ['websocket'],
      reconnection: false
    });
    await new Promise<void>((resolve) => browser.once('connect', () => resolve()));
    const updates: { id: string; status: string }[] = [];
    const removed: string[] = [];
    browser.on('runner:updated', (runner) => updates.push(runner));
    browser.on('runner:removed', ({ id }) => removed.push(id));

    const added = await addRunner(server, 'drained');
    const agent = await started(server.url, added.token);
    await until(() => updates.some((runner) => runner.id === added.runner.id && runner.status === 'online'), 3000, 'online');
    const drained = await server.request('POST', `/api/runners/${added.runner.id}/drain`);
    expect(drained.body).toMatchObject({ status: 'draining', capacity: CAPACITY });
    await until(() => updates.some((runner) => runner.id === added.runner.id && runner.status === 'draining'), 3000, 'draining');
    await submit(server, { project: 'drain' });
    await sleep(300);
    expect(agent.offers).toEqual([]);
    await server.request('DELETE', `/api/runners/${added.runner.id}`);
    await until(() => removed.includes(added.runner.id), 3000, 'runner:removed');
    browser.disconnect();
  });

  test('re-running a run queues its snapshot with its parameters and datasets, linked to the original', async () => {
    // A run made in a notebook (not a job): its params are text, typed again by the parameters cell.
    const original = (
      await server.request('POST', '/api/runs', {
        json: { project: 'rerun', notebookPath: 'train.ipynb', params: { epochs: '7', lr: '0.01', name: 'cifar', unrelated: 'x' } }
      })
    ).body as Run;
    await server.request('POST', `/api/runs/${original.id}/snapshot`, { json: { notebookPath: 'train.ipynb', notebook: notebook() } });
    const response = await server.request('POST', `/api/runs/${original.id}/rerun`, { json: {} });
    expect(response.status).toBe(201);
    const rerun = response.body as Job;
    expect(rerun).toMatchObject({ parameters: { epochs: 7, lr: 0.01, name: 'cifar' }, rerunOf: original.id });
    const rerunRun = await run(server, rerun.runId);
    expect(rerunRun.tags[JOB_TAGS.rerunOf]).toBe(original.id);
    expect(rerunRun.snapshot?.commit).toBe((await run(server, original.id)).snapshot?.commit);
    const graph = await server.request('GET', `/api/provenance?node=run:${original.id}&direction=downstream`);
    expect(graph.body.edges).toContainEqual({ from: `run:${original.id}`, to: `run:${rerun.runId}` });

    // A job's run re-runs with the job's own typed parameters, overrides on top.
    const again = (await server.request('POST', `/api/runs/${rerun.runId}/rerun`, { json: { parameters: { epochs: 8 } } })).body as Job;
    expect(again.parameters).toEqual({ epochs: 8, lr: 0.01, name: 'cifar' });
    const refused = await server.request('POST', `/api/runs/${rerun.runId}/rerun`, { json: { parameters: { epochs: 'many' } } });
    expectErrorBody(refused, 400, 'invalid_request');
  });

  test('a re-run with env recreate gives the runner the packages the original run recorded', async () => {
    const environment = { python: '3.12.1', platform: 'Linux', hostname: 'lab', packages: { numpy: '2.1.0', torch: '2.5.1' } };
    const original = (
      await server.request('POST', '/api/runs', { json: { project: 'recreate', notebookPath: 'train.ipynb', environment } })
    ).body as Run;
    await server.request('POST', `/api/runs/${original.id}/snapshot`, {
      json: { notebookPath: 'train.ipynb', notebook: notebook(), files: [{ path: 'helpers.py', content: 'X = 1\n' }] }
    });
    const rerun = (await server.request('POST', `/api/runs/${original.id}/rerun`, { json: { env: 'recreate' } })).body as Job;
    expect(rerun.env).toBe('recreate');
    const { token } = await addRunner(server, 'recreator');
    const agent = await started(server.url, token);
    const offer = await agent.offer();
    expect(offer).toMatchObject({ jobId: rerun.id, env: 'recreate' });
    const fetched = await server.request('GET', `/api/runner/attempts/${offer.attemptId}/notebook`, { token });
    expect(fetched.body.packages).toEqual(['numpy==2.1.0', 'torch==2.5.1']);
    expect(fetched.body.files).toEqual([{ path: 'helpers.py', content: 'X = 1\n' }]);
    await agent.complete(offer.attemptId, 'finished');
  });
});

describe('with a short lease', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { RUNLAB_RUNNER_HEARTBEAT_MS: '250', RUNLAB_RUNNER_LEASE_MS: '1500' } });
  });
  afterEach(() => tidy(server));
  afterAll(() => server.destroy());

  test('a lost lease requeues the job to another runner as attempt 2; the first attempt is refused and its points are gone', async () => {
    const first = await started(server.url, (await addRunner(server, 'first')).token);
    const firstToken = (first.socket.auth as { token: string }).token;
    const queued = (await submit(server, { project: 'lease' })).body as Job;
    const offer1 = await first.offer();
    expect((await logPoints(server, queued.runId, firstToken, offer1.attemptId, [5, 4, 3])).status).toBe(200);
    // `first` goes quiet (no heartbeat); `second` keeps heartbeating.
    const secondAdded = await addRunner(server, 'second');
    const second = await started(server.url, secondAdded.token);
    const stopBeating = second.keepAlive();
    try {
      const offer2 = await second.offer();
      expect(offer2).toMatchObject({ jobId: queued.id, attemptNumber: 2 });
      const requeued = await job(server, queued.id);
      expect(requeued.attempts.map((attempt) => [attempt.number, attempt.status])).toEqual([
        [1, 'lost'],
        [2, 'running']
      ]);
      // The first attempt's late results are refused.
      expect(await first.complete(offer1.attemptId, 'finished')).toMatchObject({ ok: false, code: 'stale_attempt' });
      expect(await first.events(offer1.attemptId, [{ type: 'started', cells: 1 }])).toMatchObject({ ok: false, code: 'stale_attempt' });
      const late = await logPoints(server, queued.runId, firstToken, offer1.attemptId, [2, 1]);
      expectErrorBody(late, 409, 'conflict');
      expect(late.body.error.message).toMatch(/^This attempt was superseded/);

      expect((await run(server, queued.runId)).metrics.loss).toBeUndefined();
      expect((await logPoints(server, queued.runId, secondAdded.token, offer2.attemptId, [0.5, 0.4])).status).toBe(200);
      expect(await second.complete(offer2.attemptId, 'finished')).toEqual({ ok: true });
      const history = await server.request('GET', `/api/runs/${queued.runId}/metrics/loss`);
      expect(history.body.points.map((point: { value: number }) => point.value)).toEqual([0.5, 0.4]);
      const done = await run(server, queued.runId);
      expect(done).toMatchObject({ status: 'finished', tags: { [JOB_TAGS.attempts]: '2', [JOB_TAGS.runner]: 'second' } });
      const log = (await server.request('GET', `/api/jobs/${queued.id}/log`)).text;
      expect(log).toMatch(/attempt 1 on runner first[\s\S]*attempt 1 lost[\s\S]*attempt 2 on runner second/);
    } finally {
      stopBeating();
    }
  });

  test('a job past its timeout is stopped by its runner and ends timed out; its run fails', async () => {
    const agent = await started(server.url, (await addRunner(server, 'slow')).token);
    const stopBeating = agent.keepAlive();
    try {
      const queued = (await submit(server, { project: 'timeout', timeoutS: 1 })).body as Job;
      const offer = await agent.offer();
      await until(() => agent.cancels.length > 0, 4000, 'the timeout notice');
      expect(agent.cancels[0]).toEqual({ attemptId: offer.attemptId, outcome: 'timed_out' });
      await agent.complete(offer.attemptId, 'cancelled');
      const ended = await job(server, queued.id);
      expect(ended).toMatchObject({ status: 'timed_out', error: 'timed out after 1 second' });
      expect(await run(server, queued.runId)).toMatchObject({ status: 'failed', error: { message: 'timed out after 1 second' } });
    } finally {
      stopBeating();
    }
  });
});

test('a server restart mid-job keeps the job, and the reconnecting runner keeps its attempt', async () => {
  const dir = makeTempDir();
  const dataDir = `${dir}/data`;
  let server = await startServer({ dataDir });
  try {
    const added = await addRunner(server, 'steady');
    const agent = await SimulatedRunner.start(server.url, added.token);
    const queued = (await submit(server, { project: 'restart' })).body as Job;
    const offer = await agent.offer();
    await agent.events(offer.attemptId, [{ type: 'output', index: 0, stream: 'stdout', text: 'before the restart\n' }]);
    await server.stop();
    await until(() => agent.disconnected, 2000, 'the disconnect');

    server = await startServer({ dataDir });
    expect((await job(server, queued.id)).status).toBe('running');
    const back = await SimulatedRunner.start(server.url, added.token, { attempts: [offer.attemptId] });
    expect(back.welcome.abandon).toEqual([]);
    await back.events(offer.attemptId, [{ type: 'output', index: 0, stream: 'stdout', text: 'after the restart\n' }]);
    expect(await back.complete(offer.attemptId, 'finished')).toEqual({ ok: true });
    const finished = await job(server, queued.id);
    expect(finished).toMatchObject({ status: 'finished', attemptCount: 1 });
    expect((await server.request('GET', `/api/jobs/${queued.id}/log`)).text).toMatch(/before the restart\n[\s\S]*after the restart\n/);
    back.stop();
  } finally {
    await server.stop();
    removeDir(dir);
  }
});
