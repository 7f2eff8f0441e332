/**
 * Real models for tests that serve them: a scikit-learn model written by
 * `runlab.models.flavors.save_model` (the checkout's .venv), uploaded as a run's artifacts and
 * registered as a version, as `runlab.model(...)` does.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ModelVersion, Run } from '../src/contract';
import type { TestServer } from './helpers';

export const PYTHON = path.join(path.resolve(__dirname, '..', '..'), '.venv', 'bin', 'python');

const SAVE_MODEL = `
import json, sys
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from runlab.models.flavors import save_model
rng = np.random.default_rng(int(sys.argv[2]))
X = pd.DataFrame(rng.normal(size=(60, 4)), columns=["a", "b", "c", "d"])
y = (X["a"] + X["b"] > 0).astype(int)
saved = save_model(LogisticRegression().fit(X, y), sys.argv[1], input_example=X.iloc[:3])
print(json.dumps({"flavor": saved.flavor, "signature": saved.signature, "inputExample": saved.input_example,
                  "requirements": saved.requirements}))
`;

export interface SavedModel {
  dir: string;
  flavor: string;
  signature: unknown;
  inputExample: { columns: string[]; data: number[][] };
  requirements: string[];
}

/** Trains and saves a model into `<dir>/model-<seed>` (synchronously: call it before a server starts in this process). */
export function saveModel(dir: string, seed: number): SavedModel {
  const modelDir = path.join(dir, `model-${seed}`);
  const output = execFileSync(PYTHON, ['-c', SAVE_MODEL, modelDir, String(seed)], { encoding: 'utf8' });
  return { dir: modelDir, ...(JSON.parse(output.trim().split('\n').pop() as string) as Omit<SavedModel, 'dir'>) };
}

/** Logs a version of `model` the way runlab.model(...) does: a run, its model directory as artifacts, the version. */
export async function logVersion(
  server: TestServer,
  saved: SavedModel,
  model = 'churn',
  project = 'deploy-demo'
): Promise<{ version: ModelVersion; run: Run }> {
  const run = (await server.request('POST', '/api/runs', { json: { project, name: 'train' } })).body as Run;
  for (const file of fs.readdirSync(saved.dir)) {
    const response = await fetch(`${server.url}/api/runs/${run.id}/artifacts?path=${encodeURIComponent(`models/${model}/${file}`)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/octet-stream' },
      body: fs.readFileSync(path.join(saved.dir, file))
    });
    if (response.status !== 201) throw new Error(`artifact upload answered ${response.status}: ${await response.text()}`);
  }
  const response = await server.request('POST', `/api/models/${model}/versions`, {
    json: {
      runId: run.id,
      artifactPath: `models/${model}`,
      flavor: saved.flavor,
      signature: saved.signature,
      inputExample: saved.inputExample,
      requirements: saved.requirements
    }
  });
  if (response.status !== 201) throw new Error(`registering a version answered ${response.status}: ${response.text}`);
  return { version: response.body as ModelVersion, run };
}
