/**
 * The panel's project section: the switcher (every project on the server, with run counts),
 * which project the notebooks use and a one-click way back to it, and creating and renaming
 * projects. It renders ICurrentProject and calls its methods; it never fetches on its own.
 */
import { caretDownIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { projectNameProblem } from '../projects/name';
import { ProjectOptions, runCountLabel } from '../projects/ProjectOptions';
import { ICurrentProject } from '../tokens';

/** Re-render on both of the model's signals. */
function useProjectModel(model: ICurrentProject): void {
  const [, setTick] = React.useState(0);
  React.useEffect(() => {
    const update = () => setTick((tick) => tick + 1);
    model.changed.connect(update);
    model.projectsChanged.connect(update);
    return () => {
      model.changed.disconnect(update);
      model.projectsChanged.disconnect(update);
    };
  }, [model]);
}

/** A project name typed in place, checked as it is typed; the server's refusal is shown under it. */
function ProjectNameForm(props: {
  label: string;
  initial: string;
  submitLabel: string;
  note?: string;
  onSubmit(name: string): Promise<void>;
  onDone(): void;
}): JSX.Element {
  const [name, setName] = React.useState(props.initial);
  const [edited, setEdited] = React.useState(false);
  const [refusal, setRefusal] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);
  const problem = projectNameProblem(name.trim());
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setEdited(true);
    if (problem || busy) {
      return;
    }
    setBusy(true);
    setRefusal(null);
    try {
      await props.onSubmit(name.trim());
      props.onDone();
    } catch (error) {
      setRefusal((error as Error).message);
      setBusy(false);
    }
  };
  const message = refusal ?? (edited ? problem : null);
  return (
    <form className="jp-runlab-ProjectForm" aria-label={props.label} onSubmit={(event) => void submit(event)}>
      <label className="jp-runlab-ProjectForm-label">
        {props.label}
        <input
          className="jp-mod-styled jp-runlab-ProjectForm-input"
          value={name}
          autoFocus
          spellCheck={false}
          aria-invalid={message !== null}
          placeholder="letters, digits, . _ -"
          onChange={(event) => {
            setName(event.target.value);
            setEdited(true);
            setRefusal(null);
          }}
          onKeyDown={(event) => event.key === 'Escape' && props.onDone()}
        />
      </label>
      {props.note && <p className="jp-runlab-ProjectForm-note">{props.note}</p>}
      {message && (
        <p className="jp-runlab-ProjectForm-error" role="alert">
          {message}
        </p>
      )}
      <div className="jp-runlab-Actions">
        <button type="submit" className="jp-Button jp-mod-styled jp-mod-accept" disabled={busy || (edited && problem !== null)}>
          {props.submitLabel}
        </button>
        <button type="button" className="jp-Button jp-mod-styled jp-mod-reject" onClick={props.onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** The button showing the current project, and the list that drops down from it. */
function ProjectSwitcher(props: { model: ICurrentProject; onNewProject(): void }): JSX.Element {
  const { model } = props;
  const [open, setOpen] = React.useState(false);
  const [highlighted, setHighlighted] = React.useState<string | null>(null);
  const rootRef = React.useRef<HTMLDivElement>(null);
  const buttonRef = React.useRef<HTMLButtonElement>(null);

  React.useEffect(() => {
    if (!open) {
      return;
    }
    const onPointerDown = (event: MouseEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) {
        setOpen(false);
      }
    };
    document.addEventListener('mousedown', onPointerDown, true);
    return () => document.removeEventListener('mousedown', onPointerDown, true);
  }, [open]);

  const close = () => {
    setOpen(false);
    buttonRef.current?.focus();
  };
  const toggle = () => {
    setHighlighted(model.project?.name ?? null);
    setOpen(!open);
  };
  const isNotebooks = model.name === model.notebookProjectName;
  return (
    <div
      ref={rootRef}
      className="jp-runlab-ProjectSwitcher"
      data-open={open}
      onKeyDown={(event) => {
        if (event.key === 'Escape' && open) {
          event.stopPropagation();
          close();
        }
      }}
    >
      <button
        ref={buttonRef}
        className="jp-runlab-ProjectSwitcher-button"
        aria-haspopup="listbox"
        aria-expanded={open}
        title="Switch the project this JupyterLab shows"
        onClick={toggle}
      >
        <span className="jp-runlab-ProjectName">{model.name}</span>
        {isNotebooks && <span className="jp-runlab-ProjectBadge">notebooks</span>}
        <caretDownIcon.react tag="span" className="jp-runlab-ProjectSwitcher-caret" />
      </button>
      {open && (
        <div className="jp-runlab-ProjectSwitcher-popup">
          {model.projects.length === 0 ? (
            <p className="jp-runlab-ProjectOptions-empty">{model.problem ?? 'No projects on this server yet.'}</p>
          ) : (
            <ProjectOptions
              model={model}
              projects={model.projects}
              highlighted={highlighted}
              onHighlight={setHighlighted}
              onPick={(name) => {
                model.select(name);
                close();
              }}
              label="Projects"
              autoFocus
            />
          )}
          <button
            className="jp-runlab-ProjectSwitcher-new"
            onClick={() => {
              setOpen(false);
              props.onNewProject();
            }}
          >
            New project…
          </button>
        </div>
      )}
    </div>
  );
}

export function ProjectSection({ project }: { project: ICurrentProject }): JSX.Element {
  useProjectModel(project);
  const [form, setForm] = React.useState<'create' | 'rename' | null>(null);
  const [failure, setFailure] = React.useState<string | null>(null);
  const current = project.project;
  const isNotebooks = project.name === project.notebookProjectName;
  const runs = current ? project.runCount(current.id) : null;

  const makeNotebookProject = async () => {
    setFailure(null);
    try {
      await project.makeNotebookProject();
    } catch (error) {
      setFailure((error as Error).message);
    }
  };

  return (
    <section className="jp-runlab-Section" aria-label="Project">
      <h3 className="jp-runlab-SectionTitle">Project</h3>
      <ProjectSwitcher model={project} onNewProject={() => setForm('create')} />
      {!isNotebooks && (
        <div className="jp-runlab-NotebookProject" aria-label="Notebooks’ project">
          <span>
            Notebooks log to <strong>{project.notebookProjectName}</strong>
          </span>
          <div className="jp-runlab-Actions">
            <button
              className="jp-Button jp-mod-styled jp-mod-accept"
              title={`Show the notebooks’ project, ${project.notebookProjectName}, again`}
              onClick={() => project.select(null)}
            >
              Back to {project.notebookProjectName}
            </button>
            {current && (
              <button
                className="jp-Button jp-mod-styled jp-mod-reject"
                title={`Set ${current.name} as the project in Settings → Runlab: kernels log their runs to it`}
                onClick={() => void makeNotebookProject()}
              >
                Make this the notebooks’ project
              </button>
            )}
          </div>
        </div>
      )}
      {current && (
        <dl className="jp-runlab-Facts">
          <dt>Runs</dt>
          <dd className="jp-runlab-ProjectRuns">{runs === null ? '…' : runCountLabel(runs)}</dd>
          <dt>Head</dt>
          <dd>
            <code>{current.headCommit?.slice(0, 8) ?? 'no commits'}</code>
          </dd>
          {current.description && (
            <>
              <dt>About</dt>
              <dd>{current.description}</dd>
            </>
          )}
        </dl>
      )}
      {project.problem && (
        <>
          <p className="jp-runlab-Message">{project.problem}</p>
          {!current && project.problem.startsWith('No project') && (
            <button
              className="jp-Button jp-mod-styled jp-mod-accept"
              onClick={() => void project.create().catch((error: Error) => setFailure(error.message))}
            >
              Create project “{project.name}”
            </button>
          )}
        </>
      )}
      {failure && (
        <p className="jp-runlab-ProjectForm-error" role="alert">
          {failure}
        </p>
      )}
      {form === 'create' && (
        <ProjectNameForm
          key="create"
          label="New project"
          initial=""
          submitLabel="Create"
          note="This JupyterLab switches to it; the notebooks keep their project."
          onSubmit={async (name) => void (await project.createProject(name))}
          onDone={() => setForm(null)}
        />
      )}
      {form === 'rename' && current && (
        <ProjectNameForm
          key={`rename-${current.id}`}
          label={`Rename ${current.name}`}
          initial={current.name}
          submitLabel="Rename"
          note={isNotebooks ? 'The notebooks’ project setting follows the new name.' : undefined}
          onSubmit={(name) => project.rename(name)}
          onDone={() => setForm(null)}
        />
      )}
      {form === null && current && (
        <div className="jp-runlab-Actions">
          <button className="jp-Button jp-mod-styled jp-mod-reject" onClick={() => setForm('create')}>
            New project…
          </button>
          <button className="jp-Button jp-mod-styled jp-mod-reject" onClick={() => setForm('rename')}>
            Rename…
          </button>
        </div>
      )}
    </section>
  );
}
