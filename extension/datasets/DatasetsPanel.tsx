/**
 * The Datasets sidebar: the current project's datasets, live; expand one to see its versions
 * with what changed since the previous one, and act on a version (pin, snippet, compare,
 * provenance). The versions the notebook in focus pins are marked "pinned here".
 */
import { deleteIcon, UseSignal } from '@jupyterlab/ui-components';
import React, { useEffect, useRef, useState } from 'react';
import type { Dataset, DatasetVersion } from '../../server/src/contract';
import { formatBytes, formatTime, relativeTime } from '../shared/format';
import { summaryParts, summaryText } from './summary';
import { IDatasetsModel } from './tokens';

/** Versions listed before "Show all"; a dataset can have thousands. */
const VERSIONS_SHOWN = 20;

export interface IDatasetActions {
  /** Why a version cannot be pinned in (or loaded by) the notebook in focus now; null when it can. */
  pinProblem(): string | null;
  pin(name: string, version: string): void;
  insertSnippet(name: string, version: string): void;
  compare(name: string, from: string, to: string): void;
  showProvenance(version: DatasetVersion): void;
  openRun(runId: string): void;
  /** Asks first; `version` null deletes the whole dataset. */
  delete(name: string, version: string | null): void;
}

export interface IDatasetsPanelProps {
  model: IDatasetsModel;
  actions: IDatasetActions;
}

/** Shown on a version `runlab-server fsck --repair` found chunks of corrupt (until it is committed again). */
export function DamagedBadge({ version }: { version: DatasetVersion }): JSX.Element | null {
  if (!version.damaged) return null;
  return (
    <span
      className="jp-runlab-Badge"
      data-status="failed"
      title="The server dropped corrupt chunks of this version (runlab-server fsck --repair). Commit the same files again to restore it."
    >
      damaged
    </span>
  );
}

/** `+2 −1 ~3 files · 1.2 KiB new data`, or `first version`. */
export function VersionSummary({ version }: { version: DatasetVersion }): JSX.Element {
  const parts = summaryParts(version.summary);
  if (!parts) {
    return (
      <span className="jp-runlab-DiffSummary jp-runlab-Muted" data-summary="first">
        first version
      </span>
    );
  }
  return (
    <span className="jp-runlab-DiffSummary" title={summaryText(version.summary)} aria-label={summaryText(version.summary)}>
      <span className="jp-runlab-mod-added">{parts.added}</span> <span className="jp-runlab-mod-removed">{parts.removed}</span>{' '}
      <span className="jp-runlab-mod-changed">{parts.changed}</span> files · <span>{parts.bytes}</span>
    </span>
  );
}

function VersionRow({
  dataset,
  version,
  others,
  actions,
  revealed,
  pinnedIn
}: {
  dataset: string;
  version: DatasetVersion;
  others: readonly DatasetVersion[];
  actions: IDatasetActions;
  revealed: boolean;
  /** The notebook in focus, when it pins this version. */
  pinnedIn: string | null;
}): JSX.Element {
  const [comparing, setComparing] = useState(false);
  const [against, setAgainst] = useState<string>('');
  const ref = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (revealed) {
      ref.current?.scrollIntoView({ block: 'nearest' });
    }
  }, [revealed]);
  const pinProblem = actions.pinProblem();
  const startCompare = () => {
    // The version just before is the natural default; the newest other one when there is none.
    const previous = others.find((other) => other.number < version.number) ?? others[0];
    setAgainst(previous?.label ?? '');
    setComparing(true);
  };
  return (
    <li
      ref={ref}
      className={`jp-runlab-DatasetVersion${revealed ? ' jp-mod-revealed' : ''}${pinnedIn ? ' jp-mod-pinned' : ''}`}
      data-dataset={dataset}
      data-version={version.label}
      data-pinned={pinnedIn ? 'true' : undefined}
    >
      <div className="jp-runlab-DatasetVersion-head">
        <strong className="jp-runlab-DatasetVersion-label">{version.label}</strong>
        {pinnedIn && (
          <span className="jp-runlab-Badge jp-runlab-PinnedBadge" title={`${pinnedIn} loads ${dataset}@${version.label}`}>
            pinned here
          </span>
        )}
        <DamagedBadge version={version} />
        <span>{formatBytes(version.size)}</span>
        <span>
          {version.fileCount.toLocaleString('en-US')} file{version.fileCount === 1 ? '' : 's'}
        </span>
        <span className="jp-runlab-Muted" title={formatTime(version.createdAt)}>
          {relativeTime(version.createdAt)}
        </span>
        <button
          className="jp-runlab-IconButton jp-runlab-DatasetVersion-delete"
          title={`Delete ${dataset}@${version.label}…`}
          aria-label={`Delete ${dataset}@${version.label}`}
          onClick={() => actions.delete(dataset, version.label)}
        >
          <deleteIcon.react tag="span" elementSize="small" />
        </button>
      </div>
      <div className="jp-runlab-DatasetVersion-summary">
        <VersionSummary version={version} />
      </div>
      <div className="jp-runlab-DatasetVersion-meta">
        {version.message && <span className="jp-runlab-DatasetVersion-message">{version.message}</span>}
        <span className="jp-runlab-Muted">by {version.author}</span>
        {version.producedByRunId && (
          <button
            className="jp-runlab-Link"
            onClick={() => actions.openRun(version.producedByRunId!)}
            title="Open the run that produced this version"
          >
            data run
          </button>
        )}
      </div>
      <div className="jp-runlab-DatasetVersion-actions" role="group" aria-label={`Actions for ${dataset}@${version.label}`}>
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small"
          disabled={pinProblem !== null}
          title={pinProblem ?? `Pin ${dataset}@${version.label} in the notebook in focus`}
          onClick={() => actions.pin(dataset, version.label)}
        >
          Pin
        </button>
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small"
          disabled={pinProblem !== null}
          title={pinProblem ?? 'Insert a cell that loads this version'}
          onClick={() => actions.insertSnippet(dataset, version.label)}
        >
          Snippet
        </button>
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small"
          disabled={!others.length}
          title={others.length ? 'Compare with another version' : 'There is no other version to compare with'}
          aria-expanded={comparing}
          onClick={() => (comparing ? setComparing(false) : startCompare())}
        >
          Diff…
        </button>
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small"
          title="Show what this version was made from and what was made from it"
          onClick={() => actions.showProvenance(version)}
        >
          Provenance
        </button>
      </div>
      {comparing && (
        <div className="jp-runlab-DatasetVersion-compare">
          <label>
            Compare {version.label} with{' '}
            <select className="jp-mod-styled" value={against} onChange={(event) => setAgainst(event.target.value)} autoFocus>
              {others.map((other) => (
                <option key={other.id} value={other.label}>
                  {other.label} · {relativeTime(other.createdAt)}
                </option>
              ))}
            </select>
          </label>
          <button
            className="jp-Button jp-mod-styled jp-mod-accept jp-runlab-Small"
            disabled={!against}
            onClick={() => {
              // Older on the left: a diff reads from the past to the present.
              const other = others.find((candidate) => candidate.label === against);
              const [from, to] = other && other.number > version.number ? [version.label, against] : [against, version.label];
              setComparing(false);
              actions.compare(dataset, from, to);
            }}
          >
            Show diff
          </button>
        </div>
      )}
    </li>
  );
}

function DatasetItem({ dataset, model, actions }: { dataset: Dataset; model: IDatasetsModel; actions: IDatasetActions }): JSX.Element {
  const notebookPins = model.notebookPins;
  const pinned = notebookPins?.pins[dataset.name] ?? null;
  const expanded = model.isExpanded(dataset.name);
  const list = model.versions(dataset.name);
  const [showAll, setShowAll] = useState(false);
  const versions = list?.versions ?? [];
  const revealed = model.revealed;
  // A revealed version further down than the cap must still be shown.
  const revealIndex = versions.findIndex((version) => `${dataset.name}@${version.label}` === revealed);
  const shownCount = showAll ? versions.length : Math.max(VERSIONS_SHOWN, revealIndex + 1);
  const latest = dataset.latest;
  return (
    <li className="jp-runlab-Dataset" data-dataset={dataset.name}>
      <button
        className="jp-runlab-Dataset-head"
        aria-expanded={expanded}
        onClick={() => model.setExpanded(dataset.name, !expanded)}
        title={expanded ? 'Hide versions' : 'Show versions'}
      >
        <span className={`jp-runlab-Caret${expanded ? ' jp-mod-expanded' : ''}`} aria-hidden="true" />
        <span className="jp-runlab-Dataset-name">{dataset.name}</span>
        {latest && <span className="jp-runlab-Badge">{latest.label}</span>}
        {pinned && (
          <span
            className="jp-runlab-Badge jp-runlab-PinnedBadge"
            data-version={pinned}
            title={`${notebookPins!.notebook} pins ${dataset.name}@${pinned}`}
          >
            {pinned} · pinned
          </span>
        )}
        <span className="jp-runlab-Muted jp-runlab-Dataset-facts">
          {dataset.versionCount} version{dataset.versionCount === 1 ? '' : 's'}
          {latest &&
            ` · ${formatBytes(latest.size)} · ${latest.fileCount.toLocaleString('en-US')} file${latest.fileCount === 1 ? '' : 's'}`}
        </span>
      </button>
      {expanded && (
        <div className="jp-runlab-Dataset-body">
          {list?.error && (
            <p className="jp-runlab-Message">
              {list.error}{' '}
              <button className="jp-runlab-Link" onClick={() => void model.loadVersions(dataset.name, true)}>
                Try again
              </button>
            </p>
          )}
          {list?.loading && !versions.length && <p className="jp-runlab-Muted">Loading versions…</p>}
          {!list?.loading && !list?.error && !versions.length && <p className="jp-runlab-Muted">No versions yet.</p>}
          {versions.length > 0 && (
            <ul className="jp-runlab-DatasetVersions" aria-label={`Versions of ${dataset.name}`}>
              {versions.slice(0, shownCount).map((version) => (
                <VersionRow
                  key={version.id}
                  dataset={dataset.name}
                  version={version}
                  others={versions.filter((other) => other.id !== version.id)}
                  actions={actions}
                  revealed={`${dataset.name}@${version.label}` === revealed}
                  pinnedIn={pinned === version.label ? notebookPins!.notebook : null}
                />
              ))}
            </ul>
          )}
          {versions.length > shownCount && (
            <button className="jp-runlab-Link" onClick={() => setShowAll(true)}>
              Show all {versions.length.toLocaleString('en-US')} versions
            </button>
          )}
          <button className="jp-runlab-Link jp-runlab-Dataset-delete" onClick={() => actions.delete(dataset.name, null)}>
            Delete dataset {dataset.name}…
          </button>
        </div>
      )}
    </li>
  );
}

/** What to type to make the first dataset. */
export function DatasetsEmptyState(): JSX.Element {
  return (
    <div className="jp-runlab-Empty">
      <p>No datasets in this project yet. Version a folder of data from a notebook:</p>
      <pre className="jp-runlab-Code">{'import runlab\nrunlab.dataset("name").commit("path/")'}</pre>
      <p>or from a terminal:</p>
      <pre className="jp-runlab-Code">runlab data add name path/</pre>
      <p className="jp-runlab-Muted">Each commit is an immutable version; unchanged files are stored once.</p>
    </div>
  );
}

function DatasetsList({ model, actions }: { model: IDatasetsModel; actions: IDatasetActions }): JSX.Element {
  if (!model.projectName) {
    return (
      <p className="jp-runlab-Message">
        {model.error ?? 'Not connected to a Runlab project. Open the Runlab panel to connect or sign in.'}
      </p>
    );
  }
  return (
    <>
      <div className="jp-runlab-RunsToolbar">
        <span className="jp-runlab-RunsCount">
          {model.loading && !model.datasets.length
            ? 'Loading…'
            : `${model.datasets.length} dataset${model.datasets.length === 1 ? '' : 's'} in ${model.projectName}`}
        </span>
        <button className="jp-Button jp-mod-styled jp-runlab-Small" onClick={() => void model.refresh()} title="Load the list again">
          Refresh
        </button>
      </div>
      {model.error && (
        <p className="jp-runlab-Message" role="alert">
          {model.error}
        </p>
      )}
      {!model.loading && !model.error && model.datasets.length === 0 ? (
        <DatasetsEmptyState />
      ) : (
        <ul className="jp-runlab-Datasets" aria-label="Datasets">
          {model.datasets.map((dataset) => (
            <DatasetItem key={dataset.id} dataset={dataset} model={model} actions={actions} />
          ))}
        </ul>
      )}
    </>
  );
}

export function DatasetsPanelView({ model, actions }: IDatasetsPanelProps): JSX.Element {
  // The model also emits when the notebook in focus or its pins change: the Pin buttons and badges follow.
  return (
    <div className="jp-runlab-DatasetsPanelBody">
      <UseSignal signal={model.changed}>{() => <DatasetsList model={model} actions={actions} />}</UseSignal>
    </div>
  );
}
