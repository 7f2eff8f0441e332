/**
 * The dataset diff view (main area): two versions side by side with what changed between them,
 * and the added, removed and changed files with their sizes. The server caps each list; the
 * view says so when it did.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { UseSignal } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';
import React from 'react';
import { FixedSizeList, ListChildComponentProps } from 'react-window';
import type { DatasetDiffFile, DatasetDiffResponse, DatasetVersion } from '../../server/src/contract';
import { describeError } from '../shared/errors';
import { ErrorMessage } from '../shared/ErrorMessage';
import { formatBytes, formatTime, relativeTime } from '../shared/format';
import { datasetIcon } from '../shared/icons';
import { createMainAreaTab } from '../shared/mainArea';
import { IRunlabConnection } from '../tokens';

/** Files listed per category; the summary counts them all. */
export const DIFF_FILE_LIMIT = 1000;
const ROW_HEIGHT = 24;
/** Lists longer than this scroll inside a fixed-height, virtualized box. */
const LIST_MAX_ROWS = 16;

export class DatasetDiffModel {
  constructor(
    private readonly _connection: IRunlabConnection,
    readonly project: string,
    readonly name: string,
    readonly from: string,
    readonly to: string
  ) {
    void this.load();
  }

  get diff(): DatasetDiffResponse | null {
    return this._diff;
  }

  get error(): string | null {
    return this._error;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  async load(): Promise<void> {
    this._error = null;
    this._changed.emit();
    try {
      this._diff = await this._connection.api.datasets.diffDatasetVersions({
        params: { project: this.project, name: this.name },
        query: { from: this.from, to: this.to, limit: DIFF_FILE_LIMIT }
      });
    } catch (error) {
      this._error = describeError(`Could not compare ${this.name}@${this.from} with @${this.to}`, error, 'datasets');
    }
    this._changed.emit();
  }

  private _diff: DatasetDiffResponse | null = null;
  private _error: string | null = null;
  private _changed = new Signal<this, void>(this);
}

function VersionCard({ version, side }: { version: DatasetVersion; side: 'from' | 'to' }): JSX.Element {
  return (
    <div className="jp-runlab-DiffVersion" data-side={side}>
      <div className="jp-runlab-Muted">{side === 'from' ? 'From' : 'To'}</div>
      <h2>
        {version.datasetName}@{version.label}
      </h2>
      <div>
        {formatBytes(version.size)} · {version.fileCount.toLocaleString('en-US')} file{version.fileCount === 1 ? '' : 's'}
      </div>
      <div className="jp-runlab-Muted" title={formatTime(version.createdAt)}>
        by {version.author}, {relativeTime(version.createdAt)}
      </div>
      {version.message && <div className="jp-runlab-DiffVersion-message">{version.message}</div>}
    </div>
  );
}

function sizeText(file: DatasetDiffFile, kind: 'added' | 'removed' | 'changed'): string {
  if (kind === 'added') {
    return formatBytes(file.toSize ?? 0);
  }
  if (kind === 'removed') {
    return formatBytes(file.fromSize ?? 0);
  }
  const from = file.fromSize ?? 0;
  const to = file.toSize ?? 0;
  const delta = to - from;
  return `${formatBytes(from)} → ${formatBytes(to)}${delta ? ` (${delta > 0 ? '+' : ''}${formatBytes(delta)})` : ''}`;
}

interface IFileRowData {
  files: readonly DatasetDiffFile[];
  kind: 'added' | 'removed' | 'changed';
}

function FileRow({ index, style, data }: ListChildComponentProps<IFileRowData>): JSX.Element {
  const file = data.files[index];
  return (
    <div style={style} className={`jp-runlab-DiffFile jp-runlab-mod-${data.kind}`} role="listitem" data-path={file.path}>
      <span className="jp-runlab-DiffFile-path" title={file.path}>
        {file.path}
      </span>
      <span className="jp-runlab-DiffFile-size">{sizeText(file, data.kind)}</span>
    </div>
  );
}

function FileList({
  kind,
  title,
  files,
  total
}: {
  kind: 'added' | 'removed' | 'changed';
  title: string;
  files: readonly DatasetDiffFile[];
  total: number;
}): JSX.Element {
  return (
    <section className="jp-runlab-RunSection jp-runlab-DiffFiles" data-kind={kind}>
      <h2>
        {title} <span className="jp-runlab-Muted">({total.toLocaleString('en-US')})</span>
      </h2>
      {files.length === 0 ? (
        <p className="jp-runlab-Muted">None.</p>
      ) : (
        <div role="list" aria-label={`${title} files`} className="jp-runlab-DiffFileList">
          <FixedSizeList
            height={Math.min(files.length, LIST_MAX_ROWS) * ROW_HEIGHT}
            width="100%"
            itemCount={files.length}
            itemSize={ROW_HEIGHT}
            itemData={{ files, kind }}
            itemKey={(index, data) => data.files[index].path}
            overscanCount={10}
          >
            {FileRow}
          </FixedSizeList>
        </div>
      )}
      {files.length < total && (
        <p className="jp-runlab-Muted jp-runlab-DiffTruncated">
          Showing the first {files.length.toLocaleString('en-US')} of {total.toLocaleString('en-US')} {kind} files.
        </p>
      )}
    </section>
  );
}

export function DatasetDiffBody({ model }: { model: DatasetDiffModel }): JSX.Element {
  return (
    <UseSignal signal={model.changed}>
      {() => {
        const diff = model.diff;
        if (model.error) {
          return (
            <div className="jp-runlab-RunView jp-runlab-DiffView">
              <ErrorMessage message={model.error} onRetry={() => void model.load()} />
            </div>
          );
        }
        if (!diff) {
          return <div className="jp-runlab-RunView jp-runlab-DiffView">Comparing…</div>;
        }
        const { summary } = diff;
        const identical = !summary.added && !summary.removed && !summary.changed;
        return (
          <div className="jp-runlab-RunView jp-runlab-DiffView" data-from={diff.from.label} data-to={diff.to.label}>
            <header className="jp-runlab-DiffHeader">
              <VersionCard version={diff.from} side="from" />
              <div className="jp-runlab-DiffArrow" aria-hidden="true">
                →
              </div>
              <VersionCard version={diff.to} side="to" />
            </header>
            <section className="jp-runlab-RunSection jp-runlab-DiffTotals" aria-label="Summary">
              {identical ? (
                <p>The two versions hold the same files with the same content.</p>
              ) : (
                <ul className="jp-runlab-DiffStats">
                  <li className="jp-runlab-mod-added">
                    <strong>+{summary.added.toLocaleString('en-US')}</strong> added ({formatBytes(summary.bytesAdded)})
                  </li>
                  <li className="jp-runlab-mod-removed">
                    <strong>
                      {'\u2212'}
                      {summary.removed.toLocaleString('en-US')}
                    </strong>{' '}
                    removed ({formatBytes(summary.bytesRemoved)})
                  </li>
                  <li className="jp-runlab-mod-changed">
                    <strong>~{summary.changed.toLocaleString('en-US')}</strong> changed ({formatBytes(summary.bytesChanged)})
                  </li>
                  <li>
                    <strong>{summary.unchanged.toLocaleString('en-US')}</strong> unchanged
                  </li>
                  <li>
                    <strong>{formatBytes(summary.newChunkBytes)}</strong> of new data in {diff.to.label} (the rest is shared with{' '}
                    {diff.from.label})
                  </li>
                </ul>
              )}
              {diff.truncated && (
                <p className="jp-runlab-Muted">
                  Long lists are cut at {DIFF_FILE_LIMIT.toLocaleString('en-US')} files each; the counts above include every file.
                </p>
              )}
            </section>
            <FileList kind="changed" title="Changed" files={diff.changed} total={summary.changed} />
            <FileList kind="added" title="Added" files={diff.added} total={summary.added} />
            <FileList kind="removed" title="Removed" files={diff.removed} total={summary.removed} />
          </div>
        );
      }}
    </UseSignal>
  );
}

export function createDatasetDiffView(
  connection: IRunlabConnection,
  project: string,
  name: string,
  from: string,
  to: string
): MainAreaWidget {
  const model = new DatasetDiffModel(connection, project, name, from, to);
  const content = ReactWidget.create(<DatasetDiffBody model={model} />);
  content.addClass('jp-runlab-RunViewContainer');
  const widget = createMainAreaTab(content, {
    id: `runlab-dataset-diff-${project}-${name}-${from}-${to}`,
    label: `${name}: ${from} → ${to}`,
    caption: `Dataset ${name}, ${from} compared with ${to}`,
    icon: datasetIcon
  });
  widget.disposed.connect(() => Signal.clearData(model));
  return widget;
}
