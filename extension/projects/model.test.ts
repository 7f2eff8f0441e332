import { Signal } from '@lumino/signaling';
import type { Project } from '../../server/src/contract';
import { RunlabRequestError } from '../request';
import type { IRunlabConnection } from '../tokens';
import { CurrentProjectModel, IProjectChoiceStorage } from './model';

function project(id: string, name: string): Project {
  return { id, name, description: '', createdAt: '', updatedAt: '', headCommit: null };
}

class MemoryStorage implements IProjectChoiceStorage {
  items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

/** A server with some projects and run counts, behind a fake connection. */
function fakeServer(projects: Project[], runs: Record<string, number> = {}) {
  const handlers = new Map<string, (payload: unknown) => void>();
  const settings = { serverUrl: 'http://hub:1', token: 't', project: 'demo' };
  const connection = {
    settings,
    state: { status: 'connected' },
    stateChanged: new Signal<object, unknown>({}),
    on: (name: string, handler: (payload: unknown) => void, owner: object) => {
      handlers.set(name, handler.bind(owner));
      return { dispose: () => undefined, isDisposed: false };
    },
    api: {
      projects: {
        listProjects: async () => ({ projects: [...projects] }),
        createProject: async ({ body }: { body: { name: string } }) => {
          if (projects.some((p) => p.name === body.name)) {
            throw new RunlabRequestError(409, 'conflict', `A project named "${body.name}" already exists; choose another name`);
          }
          const created = project(`p${projects.length + 1}`, body.name);
          projects.push(created);
          return created;
        },
        updateProject: async ({ params, body }: { params: { id: string }; body: { name: string } }) => {
          if (projects.some((p) => p.name === body.name)) {
            throw new RunlabRequestError(409, 'conflict', `A project named "${body.name}" already exists; choose another name`);
          }
          const index = projects.findIndex((p) => p.id === params.id);
          projects[index] = { ...projects[index], name: body.name };
          return projects[index];
        }
      },
      runs: { listRuns: async ({ query }: { query: { project: string } }) => ({ runs: [], total: runs[query.project] ?? 0 }) }
    }
  };
  return { connection: connection as unknown as IRunlabConnection, settings, handlers, projects };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('CurrentProjectModel', () => {
  it('shows the notebooks’ project until the user switches, and lists every project with its runs', async () => {
    const server = fakeServer([project('p1', 'demo'), project('p2', 'Default')], { Default: 3 });
    const model = new CurrentProjectModel({ connection: server.connection, storage: new MemoryStorage(), saveNotebookProject: null });
    await settle();
    expect(model.project?.name).toBe('demo');
    expect(model.projects.map((p) => p.name)).toEqual(['Default', 'demo']);
    expect(model.runCount('p2')).toBe(3);

    const changed = jest.fn();
    model.changed.connect(changed);
    model.select('Default');
    expect(model.project?.id).toBe('p2');
    expect(model.notebookProjectName).toBe('demo');
    expect(changed).toHaveBeenCalledTimes(1);
    model.select(null);
    expect(model.project?.name).toBe('demo');
  });

  it('keeps the choice per server across reloads and follows a rename made elsewhere', async () => {
    const storage = new MemoryStorage();
    const server = fakeServer([project('p1', 'demo'), project('p2', 'Default')]);
    const first = new CurrentProjectModel({ connection: server.connection, storage, saveNotebookProject: null });
    await settle();
    first.select('Default');
    first.dispose();

    server.projects[1] = { ...server.projects[1], name: 'mlflow-default' };
    const reloaded = new CurrentProjectModel({ connection: server.connection, storage, saveNotebookProject: null });
    await settle();
    expect(reloaded.project?.name).toBe('mlflow-default');

    server.settings.serverUrl = 'http://other:2';
    await reloaded.refresh();
    expect(reloaded.project?.name).toBe('demo');
  });

  it('goes back to the notebooks’ project when the chosen one is deleted', async () => {
    const server = fakeServer([project('p1', 'demo'), project('p2', 'Default')]);
    const model = new CurrentProjectModel({ connection: server.connection, storage: new MemoryStorage(), saveNotebookProject: null });
    await settle();
    model.select('Default');
    server.handlers.get('project:deleted')!({ id: 'p2' });
    expect(model.project?.name).toBe('demo');
    expect(model.projects.map((p) => p.name)).toEqual(['demo']);
  });

  it('creates and renames with the server’s reasons, and never writes the setting unless asked', async () => {
    const server = fakeServer([project('p1', 'demo'), project('p2', 'Default')]);
    const saved: string[] = [];
    const model = new CurrentProjectModel({
      connection: server.connection,
      storage: new MemoryStorage(),
      saveNotebookProject: async (name) => void saved.push(name)
    });
    await settle();
    await expect(model.createProject('bad name')).rejects.toThrow(/letters, digits/);
    await expect(model.createProject('Default')).rejects.toThrow(
      'Could not create project "Default": A project named "Default" already exists'
    );

    await model.createProject('fresh');
    expect(model.project?.name).toBe('fresh');
    await expect(model.rename('demo')).rejects.toThrow('A project named "demo" already exists');
    await model.rename('renamed');
    expect(model.project?.name).toBe('renamed');
    expect(model.notebookProjectName).toBe('demo');
    expect(saved).toEqual([]);

    await model.makeNotebookProject();
    expect(saved).toEqual(['renamed']);
  });
});
