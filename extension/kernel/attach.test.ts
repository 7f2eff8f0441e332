/** The attach expression must be valid Python that hands over exactly the given values. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { attachExpression } from './attach';

const venvPython = path.join(__dirname, '..', '..', '.venv', 'bin', 'python');
const python = fs.existsSync(venvPython) ? venvPython : 'python3';

describe('attachExpression', () => {
  it('passes awkward values through to Python unchanged', () => {
    const settings = { serverUrl: 'http://127.0.0.1:8765', token: `rl_u_a"b'c\\d`, project: 'démo' };
    const notebookPath = 'folder with spaces/"quoted" ünïcode\n.ipynb';
    const expression = attachExpression(settings, notebookPath, 'tab-1');
    expect(expression.startsWith("__import__('runlab')._kernel_attach(")).toBe(true);
    // Evaluate the same call with dict() in place of the client, in a real Python.
    const probe = expression.replace("__import__('runlab')._kernel_attach", 'dict');
    const output = execFileSync(python, ['-c', `import json, sys; print(json.dumps(${probe}))`], { encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({
      url: settings.serverUrl,
      token: settings.token,
      project: settings.project,
      notebook_path: notebookPath,
      frontend_id: 'tab-1'
    });
  });
});
