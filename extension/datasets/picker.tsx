/**
 * The notebook toolbar's dataset picker: a button naming the notebook's pins ("Data: iris@v3")
 * that opens a dialog to choose a dataset and one of its versions, then pin it for this
 * notebook and/or insert a cell that loads it.
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { UseSignal } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import React, { useEffect, useRef, useState } from 'react';
import type { DatasetVersion } from '../../server/src/contract';
import { formatBytes, relativeTime } from '../shared/format';
import { datasetIcon } from '../shared/icons';
import { DamagedBadge, DatasetsEmptyState, VersionSummary } from './DatasetsPanel';
import { insertLoadingCell, notebookPins, setNotebookPin } from './notebook';
import { pinsLabel, startingDataset } from './pins';
import { IDatasetsModel } from './tokens';

export interface IPickerChoice {
  name: string;
  version: string;
  /** With "Pin": also insert the loading cell. */
  alsoInsert: boolean;
}

interface IPickerProps {
  model: IDatasetsModel;
  panel: NotebookPanel;
  initial: { name?: string; version?: string };
  onChoice(choice: IPickerChoice | null): void;
}

function VersionOption({
  version,
  selected,
  pinned,
  onSelect
}: {
  version: DatasetVersion;
  selected: boolean;
  pinned: boolean;
  onSelect(): void;
}): JSX.Element {
  return (
    <li
      role="option"
      id={`jp-runlab-PickerVersion-${version.id}`}
      aria-selected={selected}
      className={`jp-runlab-PickerVersion${selected ? ' jp-mod-selected' : ''}`}
      data-version={version.label}
      onClick={onSelect}
    >
      <div className="jp-runlab-DatasetVersion-head">
        <strong>{version.label}</strong>
        {pinned && <span className="jp-runlab-Badge">pinned</span>}
        <DamagedBadge version={version} />
        <span>{formatBytes(version.size)}</span>
        <span>
          {version.fileCount.toLocaleString('en-US')} file{version.fileCount === 1 ? '' : 's'}
        </span>
        <span className="jp-runlab-Muted">
          {version.author}, {relativeTime(version.createdAt)}
        </span>
      </div>
      <div className="jp-runlab-PickerVersion-detail">
        <VersionSummary version={version} />
        {version.message && <span className="jp-runlab-DatasetVersion-message"> · {version.message}</span>}
      </div>
    </li>
  );
}

function Picker({ model, panel, initial, onChoice }: IPickerProps): JSX.Element {
  const [pins, setPins] = useState(() => notebookPins(panel));
  const [name, setName] = useState<string>(
    () =>
      initial.name ??
      startingDataset(
        pins,
        model.datasets.map((dataset) => dataset.name)
      )
  );
  const [version, setVersion] = useState<string>(initial.version ?? '');
  const [alsoInsert, setAlsoInsert] = useState(false);
  const listRef = useRef<HTMLUListElement>(null);

  // Datasets may arrive after the dialog opened, without the one it started at (a pin of a deleted dataset).
  useEffect(() => {
    if (model.datasets.length && !model.datasets.some((dataset) => dataset.name === name)) {
      setName(
        startingDataset(
          pins,
          model.datasets.map((dataset) => dataset.name)
        )
      );
      setVersion('');
    }
  }, [model.datasets]);
  useEffect(() => {
    if (name) {
      void model.loadVersions(name);
    }
  }, [name]);
  const list = name ? model.versions(name) : null;
  const versions = list?.versions ?? [];
  // Default: the pinned version, else the newest.
  useEffect(() => {
    if (versions.length && !versions.some((v) => v.label === version)) {
      setVersion(pins[name] && versions.some((v) => v.label === pins[name]) ? pins[name] : versions[0].label);
    }
  }, [name, versions.length]);
  useEffect(() => {
    onChoice(name && version ? { name, version, alsoInsert } : null);
  }, [name, version, alsoInsert]);

  const move = (delta: number) => {
    const index = versions.findIndex((v) => v.label === version);
    const next = versions[Math.min(versions.length - 1, Math.max(0, index + delta))];
    if (next) {
      setVersion(next.label);
      document.getElementById(`jp-runlab-PickerVersion-${next.id}`)?.scrollIntoView({ block: 'nearest' });
    }
  };
  const selected = versions.find((v) => v.label === version);

  if (!model.projectName) {
    return <p className="jp-runlab-Message">{model.error ?? 'Not connected to a Runlab project.'}</p>;
  }
  if (!model.loading && !model.error && !model.datasets.length) {
    return <DatasetsEmptyState />;
  }
  return (
    <div className="jp-runlab-Picker">
      {Object.keys(pins).length > 0 && (
        <div className="jp-runlab-PickerPins" aria-label="Pinned in this notebook">
          <span className="jp-runlab-Muted">Pinned in this notebook:</span>
          {Object.entries(pins).map(([pinned, label]) => (
            <span key={pinned} className="jp-runlab-Pin" data-dataset={pinned}>
              {pinned}@{label}
              <button
                className="jp-runlab-Link"
                aria-label={`Unpin ${pinned}`}
                title={`Unpin ${pinned}: the notebook will load its latest version`}
                onClick={() => {
                  setNotebookPin(panel, pinned, null);
                  setPins(notebookPins(panel));
                }}
              >
                Unpin
              </button>
            </span>
          ))}
        </div>
      )}
      {model.error && <p className="jp-runlab-Message">{model.error}</p>}
      <label className="jp-runlab-PickerField">
        <span>Dataset</span>
        <select
          className="jp-mod-styled"
          aria-label="Dataset"
          value={name}
          onChange={(event) => {
            setName(event.target.value);
            setVersion('');
          }}
        >
          {model.datasets.map((dataset) => (
            <option key={dataset.id} value={dataset.name}>
              {dataset.name} ({dataset.versionCount} version{dataset.versionCount === 1 ? '' : 's'})
            </option>
          ))}
        </select>
      </label>
      <div className="jp-runlab-PickerField">
        <span id="jp-runlab-PickerVersionsLabel">Version</span>
        {list?.error && <p className="jp-runlab-Message">{list.error}</p>}
        {list?.loading && !versions.length ? (
          <p className="jp-runlab-Muted">Loading versions…</p>
        ) : (
          <ul
            ref={listRef}
            className="jp-runlab-PickerVersions"
            role="listbox"
            tabIndex={0}
            aria-labelledby="jp-runlab-PickerVersionsLabel"
            aria-activedescendant={selected ? `jp-runlab-PickerVersion-${selected.id}` : undefined}
            onKeyDown={(event) => {
              if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
                event.preventDefault();
                event.stopPropagation();
                move(event.key === 'ArrowDown' ? 1 : -1);
              }
            }}
          >
            {versions.map((v) => (
              <VersionOption
                key={v.id}
                version={v}
                selected={v.label === version}
                pinned={pins[name] === v.label}
                onSelect={() => setVersion(v.label)}
              />
            ))}
          </ul>
        )}
      </div>
      <label className="jp-runlab-PickerCheck">
        <input type="checkbox" checked={alsoInsert} onChange={(event) => setAlsoInsert(event.target.checked)} /> When pinning, also insert a
        cell that loads it
      </label>
    </div>
  );
}

class PickerBody extends ReactWidget implements Dialog.IBodyWidget<IPickerChoice | null> {
  constructor(private readonly _props: Omit<IPickerProps, 'onChoice'>) {
    super();
    this.addClass('jp-runlab-PickerBody');
  }

  getValue(): IPickerChoice | null {
    return this._choice;
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._props.model.changed}>
        {() => <Picker {...this._props} onChoice={(choice) => (this._choice = choice)} />}
      </UseSignal>
    );
  }

  private _choice: IPickerChoice | null = null;
}

const PIN_LABEL = 'Pin for this notebook';
const INSERT_LABEL = 'Insert snippet';

/** Open the picker for a notebook; applies what the user chose. */
export async function openDatasetPicker(
  model: IDatasetsModel,
  panel: NotebookPanel,
  initial: { name?: string; version?: string } = {}
): Promise<void> {
  void model.refresh();
  const result = await showDialog<IPickerChoice | null>({
    title: `Datasets for ${panel.context.localPath}`,
    body: new PickerBody({ model, panel, initial }),
    buttons: [
      Dialog.cancelButton(),
      Dialog.okButton({ label: INSERT_LABEL, displayType: 'default' }),
      Dialog.okButton({ label: PIN_LABEL })
    ],
    hasClose: true
  });
  const choice = result.value;
  if (!result.button.accept || !choice) {
    return;
  }
  if (result.button.label === PIN_LABEL) {
    setNotebookPin(panel, choice.name, choice.version);
    if (choice.alsoInsert) {
      insertLoadingCell(panel, choice.name, choice.version);
    }
  } else if (result.button.label === INSERT_LABEL) {
    insertLoadingCell(panel, choice.name, choice.version);
  }
}

/** The toolbar button of one notebook: its pins at a glance; opens the picker. */
export function createPinsToolbarItem(panel: NotebookPanel, open: () => void): Widget {
  const metadataChanged = panel.model?.metadataChanged;
  const render = () => {
    const pins = notebookPins(panel);
    const label = pinsLabel(pins);
    return (
      <button
        className="jp-ToolbarButtonComponent jp-Button jp-mod-minimal jp-runlab-PinsButton"
        title={
          Object.keys(pins).length
            ? `Dataset versions pinned in this notebook: ${Object.entries(pins)
                .map(([name, version]) => `${name}@${version}`)
                .join(', ')}. Click to change.`
            : 'Pin dataset versions for this notebook, or insert a cell that loads one'
        }
        aria-label={`${label}: choose dataset versions`}
        data-pins={JSON.stringify(pins)}
        onClick={open}
      >
        <datasetIcon.react tag="span" className="jp-ToolbarButtonComponent-icon" />
        <span className="jp-ToolbarButtonComponent-label">{label}</span>
      </button>
    );
  };
  const widget = ReactWidget.create(metadataChanged ? <UseSignal signal={metadataChanged}>{render}</UseSignal> : render());
  widget.addClass('jp-runlab-PinsToolbarItem');
  return widget;
}
