import { Signal } from '@lumino/signaling';
import type { Project } from '../../server/src/contract';
import type { ICurrentProject } from '../tokens';
import { NotebookProject } from './notebookProject';

function project(id: string, name: string): Project {
  return { id, name, description: '', createdAt: '', updatedAt: '', headCommit: null };
}

/** The current project's model as far as NotebookProject reads it. */
function current(notebookProject: Project | null) {
  const state = {
    notebookProjectName: notebookProject?.name ?? 'demo',
    notebookProject,
    project: project('p9', 'Default'),
    changed: new Signal<object, void>({}),
    projectsChanged: new Signal<object, void>({})
  };
  return state;
}

describe('NotebookProject', () => {
  it('follows the notebooks’ project, not the one the panels show', () => {
    const state = current(project('p1', 'demo'));
    const followed = new NotebookProject(state as unknown as ICurrentProject);
    expect(followed.project?.name).toBe('demo');
    expect(followed.problem).toBeNull();
  });

  it('signals a change only when the notebooks’ project is another one or renamed', () => {
    const state = current(project('p1', 'demo'));
    const followed = new NotebookProject(state as unknown as ICurrentProject);
    const seen: string[] = [];
    followed.changed.connect(() => seen.push(followed.project?.name ?? 'none'));
    state.projectsChanged.emit(); // run counts changed: nothing for the picker
    state.changed.emit(); // the panels switched project: still the same notebooks' project
    expect(seen).toEqual([]);
    state.notebookProject = project('p1', 'demo-renamed');
    state.projectsChanged.emit();
    state.notebookProject = project('p2', 'other');
    state.changed.emit();
    expect(seen).toEqual(['demo-renamed', 'other']);
  });

  it('says what to do while the notebooks’ project is not on the server', () => {
    const followed = new NotebookProject(current(null) as unknown as ICurrentProject);
    expect(followed.project).toBeNull();
    expect(followed.problem).toContain('demo has no datasets yet');
  });
});
