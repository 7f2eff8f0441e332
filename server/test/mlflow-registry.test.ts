/**
 * MLflow 3's logged models, the proxied artifact store and the model registry, in the shapes the
 * official client sends (python/tests/test_mlflow_registry.py drives the real client end to end).
 */
import { startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

const api = (method: string, endpoint: string, json?: unknown, token?: string | null) =>
  server.request(method, `/api/2.0/mlflow/${endpoint}`, { json, token });
const get = (endpoint: string, query: Record<string, string>) => api('GET', `${endpoint}?${new URLSearchParams(query)}`);
const put = (path: string, content: string) =>
  server.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${path}`, {
    rawBody: content,
    headers: { 'content-type': 'application/octet-stream' }
  });

const MLMODEL = `artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
signature:
  inputs: '[{"type": "double", "name": "age", "required": true}, {"type": "string", "name": "plan", "required": false}]'
  outputs: '[{"type": "long", "required": true}]'
  params: null
`;

async function loggedModelWithFiles(files: Record<string, string>): Promise<{ modelId: string; runId: string }> {
  const run = await api('POST', 'runs/create', { experiment_id: '0' });
  const runId = run.body.run.info.run_id as string;
  const created = await api('POST', 'logged-models', {
    experiment_id: '0',
    name: 'model',
    source_run_id: runId,
    params: [{ key: 'C', value: '1' }]
  });
  expect(created.status).toBe(200);
  const modelId = created.body.model.info.model_id as string;
  expect(created.body.model.info).toMatchObject({
    status: 'LOGGED_MODEL_PENDING',
    artifact_uri: `mlflow-artifacts:/logged-models/${modelId}`,
    source_run_id: runId
  });
  for (const [path, content] of Object.entries(files)) expect((await put(`logged-models/${modelId}/${path}`, content)).status).toBe(200);
  const finalized = await api('PATCH', `logged-models/${modelId}`, { model_id: modelId, status: 'LOGGED_MODEL_READY' });
  expect(finalized.body.model.info.status).toBe('LOGGED_MODEL_READY');
  return { modelId, runId };
}

test('a logged model: files through the proxy, listing, tags, search', async () => {
  const { modelId, runId } = await loggedModelWithFiles({ MLmodel: MLMODEL, 'model.pkl': 'pickled', 'extra/notes.txt': 'hi' });
  const listed = await server.request('GET', `/api/2.0/mlflow-artifacts/artifacts?path=logged-models/${modelId}`);
  expect(listed.body.files).toEqual([
    { path: 'extra', is_dir: true },
    { path: 'MLmodel', is_dir: false, file_size: MLMODEL.length },
    { path: 'model.pkl', is_dir: false, file_size: 7 }
  ]);
  const nested = await server.request('GET', `/api/2.0/mlflow-artifacts/artifacts?path=logged-models/${modelId}/extra`);
  expect(nested.body.files).toEqual([{ path: 'notes.txt', is_dir: false, file_size: 2 }]);
  const file = await server.request('GET', `/api/2.0/mlflow-artifacts/artifacts/logged-models/${modelId}/extra/notes.txt`);
  expect(file.text).toBe('hi');

  await api('PATCH', `logged-models/${modelId}/tags`, { tags: [{ key: 'team', value: 'risk' }] });
  expect((await api('DELETE', `logged-models/${modelId}/tags/missing`)).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  const fetched = await api('GET', `logged-models/${modelId}`);
  expect(fetched.body.model.info.tags).toEqual([{ key: 'team', value: 'risk' }]);
  expect(fetched.body.model.data.params).toEqual([{ key: 'C', value: '1' }]);
  const search = await api('POST', 'logged-models/search', { experiment_ids: ['0'], filter: `source_run_id = '${runId}'` });
  expect(search.body.models.map((model: { info: { model_id: string } }) => model.info.model_id)).toEqual([modelId]);
  // The run lists the models it logged as its outputs.
  expect((await get('runs/get', { run_id: runId })).body.run.outputs).toEqual({ model_outputs: [{ model_id: modelId, step: 0 }] });
});

test('a version from a logged model: signature converted, files immutable and kept after the logged model goes', async () => {
  const { modelId, runId } = await loggedModelWithFiles({
    MLmodel: MLMODEL,
    'model.pkl': 'pickled',
    'requirements.txt': 'mlflow==3.17.2\n# c\nscikit-learn==1.9.1\n'
  });
  const missing = await api('POST', 'model-versions/create', { name: 'unregistered', source: `models:/${modelId}`, model_id: modelId });
  expect(missing.status).toBe(404);
  expect(missing.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');

  expect((await api('POST', 'registered-models/create', { name: 'plans', description: 'd' })).status).toBe(200);
  const created = await api('POST', 'model-versions/create', { name: 'plans', source: `models:/${modelId}`, model_id: modelId });
  expect(created.status).toBe(200);
  expect(created.body.model_version).toMatchObject({
    name: 'plans',
    version: '1',
    status: 'READY',
    run_id: runId,
    source: `models:/${modelId}`
  });

  const version = (await server.request('GET', '/api/models/plans/versions/1')).body;
  expect(version).toMatchObject({ flavor: 'sklearn', source: 'mlflow', runId, requirements: ['mlflow==3.17.2', 'scikit-learn==1.9.1'] });
  expect(version.signature).toEqual({
    inputs: [
      { name: 'age', kind: 'column', datatype: 'FP64', shape: [-1], required: true },
      { name: 'plan', kind: 'column', datatype: 'BYTES', shape: [-1], required: false }
    ],
    outputs: [{ name: null, kind: 'column', datatype: 'INT64', shape: [-1], required: true }]
  });

  const download = (await get('model-versions/get-download-uri', { name: 'plans', version: '1' })).body.artifact_uri as string;
  expect(download).toBe(`mlflow-artifacts:/model-versions/${version.id}`);
  const refused = await put(`model-versions/${version.id}/model.pkl`, 'changed');
  expect(refused.status).toBe(400);
  expect(refused.body).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('immutable') });

  // Deleting the logged model leaves the version's own copies (shared blobs stay referenced).
  expect((await api('DELETE', `logged-models/${modelId}`, {})).status).toBe(200);
  expect((await api('GET', `logged-models/${modelId}`)).status).toBe(404);
  const served = await server.request('GET', `/api/2.0/mlflow-artifacts/artifacts/model-versions/${version.id}/model.pkl`);
  expect(served.text).toBe('pickled');
});

test('model files without MLmodel, and sources outside Runlab, are refused', async () => {
  const { modelId } = await loggedModelWithFiles({ 'model.pkl': 'pickled' });
  await api('POST', 'registered-models/create', { name: 'no-mlmodel' });
  const refused = await api('POST', 'model-versions/create', { name: 'no-mlmodel', source: `models:/${modelId}` });
  expect(refused.body).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('no MLmodel file') });
  const outside = await api('POST', 'model-versions/create', { name: 'no-mlmodel', source: 'file:///tmp/model' });
  expect(outside.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  expect((await server.request('GET', '/api/models/no-mlmodel/versions')).body.versions).toEqual([]);
});

test('the artifact proxy: run artifacts, unsafe paths, unknown places, authentication', async () => {
  const run = (await api('POST', 'runs/create', { experiment_id: '0' })).body.run.info;
  expect(run.artifact_uri).toBe(`mlflow-artifacts:/runs/${run.run_id}`);
  expect((await put(`runs/${run.run_id}/plots/loss.txt`, 'curve')).status).toBe(200);
  const artifacts = (await server.request('GET', `/api/runs/${run.run_id}`)).body.artifacts;
  expect(artifacts.map((artifact: { path: string }) => artifact.path)).toEqual(['plots/loss.txt']);

  // An encoded slash keeps `..` past URL normalisation, into the path the proxy checks.
  const traversal = await put(`runs/${run.run_id}/a%2F..%2F..%2Fescape.txt`, 'x');
  expect(traversal.status).toBe(400);
  expect(traversal.body).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('a/../../escape.txt') });
  const elsewhere = await server.request('GET', '/api/2.0/mlflow-artifacts/artifacts/experiments/0/file');
  expect(elsewhere.status).toBe(404);
  expect(elsewhere.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  const anonymous = await server.request('GET', `/api/2.0/mlflow-artifacts/artifacts/runs/${run.run_id}/plots/loss.txt`, { token: null });
  expect(anonymous.status).toBe(401);
  expect(anonymous.body.error_code).toBe('UNAUTHENTICATED');
  expect((await server.request('GET', '/api/3.0/mlflow/server-info')).body).toMatchObject({ multipart_uploads_enabled: false });
});

test('registry calls Runlab cannot honour say why, in MLflow shape', async () => {
  await api('POST', 'registered-models/create', { name: 'strict' });
  const stage = await api('POST', 'registered-models/get-latest-versions', { name: 'strict', stages: ['Shipping'] });
  expect(stage.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  expect((await api('POST', 'registered-models/get-latest-versions', { name: 'strict', stages: ['Production'] })).body).toEqual({
    model_versions: []
  });
  const rename = await api('POST', 'registered-models/rename', { name: 'strict', new_name: 'lenient' });
  expect(rename.body).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('does not rename') });
  const badAlias = await api('POST', 'registered-models/alias', { name: 'strict', alias: 'latest', version: '1' });
  expect(badAlias.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  const badTag = await api('POST', 'registered-models/set-tag', { name: 'strict', key: 'no*stars', value: 'x' });
  expect(badTag.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  const search = await get('registered-models/search', { filter: "tag.`mlflow.prompt.is_prompt` != 'true' AND name LIKE 'stri%'" });
  expect(search.body.registered_models.map((model: { name: string }) => model.name)).toEqual(['strict']);
  const unsupported = await get('registered-models/search', { filter: 'creation_timestamp > 5' });
  expect(unsupported.body.error_code).toBe('INVALID_PARAMETER_VALUE');
});
