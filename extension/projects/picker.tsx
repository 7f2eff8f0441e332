/**
 * The Switch Project dialog (`runlab:switch-project`): every project on the server, filtered as
 * you type; picking one switches this JupyterLab session to it.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import { UseSignal } from '@jupyterlab/ui-components';
import React from 'react';
import { ICurrentProject } from '../tokens';
import { ProjectOptions } from './ProjectOptions';

function PickerBody(props: { model: ICurrentProject; onHighlight(name: string | null): void; onPick(name: string): void }): JSX.Element {
  const { model } = props;
  const [filter, setFilter] = React.useState('');
  const [highlighted, setHighlighted] = React.useState<string | null>(model.project?.name ?? null);
  const highlight = (name: string | null) => {
    setHighlighted(name);
    props.onHighlight(name);
  };
  return (
    <UseSignal signal={model.projectsChanged}>
      {() => {
        const needle = filter.trim().toLowerCase();
        const shown = model.projects.filter((project) => project.name.toLowerCase().includes(needle));
        const visible =
          highlighted !== null && shown.some((project) => project.name === highlighted) ? highlighted : (shown[0]?.name ?? null);
        // When the filter hides the highlighted project, the first one shown is what Enter picks.
        props.onHighlight(visible);
        return (
          <div className="jp-runlab-ProjectPicker">
            <input
              className="jp-mod-styled jp-runlab-ProjectPicker-filter"
              type="search"
              placeholder="Filter projects"
              aria-label="Filter projects"
              value={filter}
              autoFocus
              onChange={(event) => setFilter(event.target.value)}
              onKeyDown={(event) => {
                const index = visible === null ? -1 : shown.findIndex((project) => project.name === visible);
                if (event.key === 'ArrowDown' && index < shown.length - 1) {
                  event.preventDefault();
                  highlight(shown[index + 1].name);
                } else if (event.key === 'ArrowUp' && index > 0) {
                  event.preventDefault();
                  highlight(shown[index - 1].name);
                }
              }}
            />
            <ProjectOptions
              model={model}
              projects={shown}
              highlighted={visible}
              onHighlight={highlight}
              onPick={props.onPick}
              label="Projects"
            />
            <p className="jp-runlab-ProjectPicker-note">
              The notebooks’ project is <strong>{model.notebookProjectName}</strong>; switching changes what this JupyterLab shows, not
              where the kernels log.
            </p>
          </div>
        );
      }}
    </UseSignal>
  );
}

class PickerWidget extends ReactWidget implements Dialog.IBodyWidget<string | null> {
  constructor(
    private readonly _model: ICurrentProject,
    private readonly _accept: () => void
  ) {
    super();
    this.addClass('jp-runlab-ProjectPickerHost');
    this._highlighted = _model.project?.name ?? null;
  }

  getValue(): string | null {
    return this._highlighted;
  }

  protected render(): JSX.Element {
    return (
      <PickerBody
        model={this._model}
        onHighlight={(name) => (this._highlighted = name)}
        onPick={(name) => {
          this._highlighted = name;
          this._accept();
        }}
      />
    );
  }

  private _highlighted: string | null;
}

/** Ask which project to show; resolves to its name, or null when cancelled. */
export async function pickProject(model: ICurrentProject): Promise<string | null> {
  let dialog: Dialog<string | null> | null = null;
  const body = new PickerWidget(model, () => dialog?.resolve(1));
  dialog = new Dialog({
    title: 'Switch Project',
    body,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Switch' })],
    focusNodeSelector: 'input'
  });
  dialog.addClass('jp-runlab-ProjectPickerDialog');
  const result = await dialog.launch();
  return result.button.accept ? result.value : null;
}
