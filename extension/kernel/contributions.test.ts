/**
 * What a kernel is told by the features' contributions: after the client loads (start,
 * restart), again when a contribution's value changes, never twice the same, and nothing once
 * the contribution is removed.
 */
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { DisposableDelegate } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';
import type { IKernelContribution, IRunlabConnection } from '../tokens';
import { KernelClientsModel } from './model';

/** A Python kernel that records the silent expressions it evaluates and answers them all with ok. */
function fakeKernel() {
  const evaluated: string[] = [];
  const kernel = {
    status: 'idle',
    info: Promise.resolve({ language_info: { name: 'python' } }),
    requestExecute(content: { user_expressions: { value: string } }) {
      evaluated.push(content.user_expressions.value);
      const value = { status: 'ok', data: { 'application/json': { version: '0.1.0' } } };
      return { done: Promise.resolve({ content: { user_expressions: { value } } }) };
    }
  };
  return { kernel, evaluated };
}

function fakeNotebook(path: string) {
  const { kernel, evaluated } = fakeKernel();
  const owner = {};
  const statusChanged = new Signal<object, string>(owner);
  const panel = {
    sessionContext: { session: { kernel }, statusChanged, kernelChanged: new Signal<object, void>(owner) },
    context: { path, pathChanged: new Signal<object, string>(owner) },
    disposed: new Signal<object, void>(owner)
  };
  return { panel: panel as unknown as NotebookPanel, evaluated, statusChanged };
}

function fakeTracker(panels: NotebookPanel[]): INotebookTracker {
  const owner = {};
  return {
    widgetAdded: new Signal<object, NotebookPanel>(owner),
    currentChanged: new Signal<object, NotebookPanel | null>(owner),
    currentWidget: panels[0] ?? null,
    forEach: (fn: (panel: NotebookPanel) => void) => panels.forEach(fn)
  } as unknown as INotebookTracker;
}

function fakeConnection(): IRunlabConnection {
  return {
    settings: { serverUrl: 'http://127.0.0.1:8765', token: 'rl_u_x', project: 'demo' },
    frontendId: 'tab-1',
    stateChanged: new Signal<object, unknown>({}),
    settingsChanged: new Signal<object, unknown>({})
  } as unknown as IRunlabConnection;
}

/** Let the model's pending kernel round trips finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const isAttach = (expression: string) => expression.startsWith("__import__('runlab')._kernel_attach(");

describe('kernel contributions', () => {
  it('tells the kernel after the client loads, on each change, and not after removal', async () => {
    const notebook = fakeNotebook('a.ipynb');
    const model = new KernelClientsModel(fakeTracker([notebook.panel]), fakeConnection());
    let value = 1;
    let changed = () => {};
    const watches: string[] = [];
    const contribution: IKernelContribution = {
      feature: 'test',
      kernelExpression: () => `pins(${value})`,
      watch: (panel, onChange) => {
        watches.push(panel.context.path);
        changed = onChange;
        return new DisposableDelegate(() => watches.push('stopped'));
      }
    };
    const handle = model.addContribution(contribution);
    await settle();
    expect(model.current?.status).toBe('attached');
    expect(watches).toEqual(['a.ipynb']);
    expect(notebook.evaluated.length).toBe(2);
    expect(isAttach(notebook.evaluated[0])).toBe(true);
    expect(notebook.evaluated[1]).toBe('pins(1)');

    changed(); // nothing new: the kernel already has it
    value = 2;
    changed();
    await settle();
    expect(notebook.evaluated.slice(2)).toEqual(['pins(2)']);

    // A restart: the fresh client is told again.
    notebook.statusChanged.emit('restarting');
    notebook.statusChanged.emit('idle');
    await settle();
    expect(notebook.evaluated.slice(3).map((e) => (isAttach(e) ? 'attach' : e))).toEqual(['attach', 'pins(2)']);

    handle.dispose();
    expect(watches).toEqual(['a.ipynb', 'stopped']);
    value = 3;
    changed();
    notebook.statusChanged.emit('restarting');
    notebook.statusChanged.emit('idle');
    await settle();
    expect(notebook.evaluated.slice(5).map((e) => (isAttach(e) ? 'attach' : e))).toEqual(['attach']);
    model.dispose();
  });

  it('keeps loading the client and the other contributions when one contribution throws', async () => {
    const notebook = fakeNotebook('b.ipynb');
    const model = new KernelClientsModel(fakeTracker([notebook.panel]), fakeConnection());
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    model.addContribution({
      feature: 'broken',
      kernelExpression: () => {
        throw new Error('no');
      }
    });
    model.addContribution({ feature: 'fine', kernelExpression: () => 'fine()' });
    await settle();
    expect(model.current?.status).toBe('attached');
    expect(notebook.evaluated.slice(1)).toEqual(['fine()']);
    expect(error).toHaveBeenCalled();
    error.mockRestore();
    model.dispose();
  });
});
