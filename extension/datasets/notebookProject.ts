/**
 * The notebooks' project, followed like the current one. The version picker lists and pins the
 * datasets of this project even when the panels show another: the kernel resolves a pinned name
 * in the notebooks' project, so a pin taken from the viewed project could name another dataset.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { Project } from '../../server/src/contract';
import type { ICurrentProject } from '../tokens';

/** What a datasets model needs of the project it shows. */
export interface IFollowedProject {
  readonly project: Project | null;
  readonly problem: string | null;
  readonly changed: ISignal<unknown, void>;
}

export class NotebookProject implements IFollowedProject, IDisposable {
  constructor(private readonly _current: ICurrentProject) {
    _current.changed.connect(this._check, this);
    _current.projectsChanged.connect(this._check, this);
    this._seen = this._key();
  }

  get project(): Project | null {
    return this._current.notebookProject;
  }

  get problem(): string | null {
    return this.project
      ? null
      : `The notebooks' project ${this._current.notebookProjectName} has no datasets yet: commit one with \`runlab.dataset("name").commit("folder")\`.`;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /** Run counts change often; only another (or a renamed, created, gone) project is a change. */
  private _check(): void {
    const key = this._key();
    if (key !== this._seen) {
      this._seen = key;
      this._changed.emit();
    }
  }

  private _key(): string {
    const project = this.project;
    return project ? `${project.id}\n${project.name}` : `missing\n${this._current.notebookProjectName}`;
  }

  private _seen: string;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}
