/**
 * "Open this version": a run's notebook as it was snapshotted, read-only, with Restore.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import React, { useEffect, useRef, useState } from 'react';
import type { SnapshotNotebookResponse } from '../../server/src/contract';
import { runlabIcon } from '../shared/icons';
import { createMainAreaTab } from '../shared/mainArea';

/** The parts of an nbformat notebook this view shows. */
interface ISnapshotNotebook {
  cells?: ISnapshotCell[];
}

interface ISnapshotCell {
  cell_type?: string;
  source?: string | string[];
}

/** A markdown cell rendered as JupyterLab renders it (sanitized, with math and links). */
function RenderedMarkdown({ source, rendermime }: { source: string; rendermime: IRenderMimeRegistry }): JSX.Element {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const renderer = rendermime.createRenderer('text/markdown');
    void renderer.renderModel(new MimeModel({ data: { 'text/markdown': source } }));
    host.current?.appendChild(renderer.node);
    return () => renderer.dispose();
  }, [source, rendermime]);
  return <div className="jp-runlab-SnapshotMarkdown" ref={host} />;
}

function SnapshotBody(props: {
  load: () => Promise<SnapshotNotebookResponse>;
  runName: string;
  restore: () => void;
  rendermime: IRenderMimeRegistry | null;
}): JSX.Element {
  const [snapshot, setSnapshot] = useState<SnapshotNotebookResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    props.load().then(setSnapshot, (reason) => setError(`Could not load this version: ${(reason as Error).message}`));
  }, []);
  if (!snapshot) {
    return <div className="jp-runlab-RunView">{error ?? 'Loading…'}</div>;
  }
  const cells = (snapshot.notebook as ISnapshotNotebook).cells ?? [];
  return (
    <div className="jp-runlab-RunView jp-runlab-SnapshotView" data-commit={snapshot.commit}>
      <header className="jp-runlab-RunHeader">
        <h1>{snapshot.notebookPath}</h1>
        <div className="jp-runlab-RunHeader-facts">
          <span className="jp-runlab-Badge">read-only</span>
          <span>
            version <code>{snapshot.commit.slice(0, 10)}</code> from run {props.runName}
          </span>
          <button className="jp-Button jp-mod-styled jp-mod-accept" onClick={props.restore}>
            Restore…
          </button>
        </div>
      </header>
      {cells.map((cell, index) => {
        const source = Array.isArray(cell.source) ? cell.source.join('') : (cell.source ?? '');
        return (
          <div key={index} className={`jp-runlab-SnapshotCell jp-runlab-mod-${cell.cell_type ?? 'code'}`}>
            <div className="jp-runlab-SnapshotCell-prompt">{cell.cell_type === 'code' ? '[ ]:' : ''}</div>
            {cell.cell_type === 'markdown' && props.rendermime ? (
              <RenderedMarkdown source={source} rendermime={props.rendermime} />
            ) : (
              <pre className={cell.cell_type === 'code' ? 'jp-runlab-Code' : 'jp-runlab-MarkdownSource'}>{source}</pre>
            )}
          </div>
        );
      })}
    </div>
  );
}

export function createSnapshotView(options: {
  runId: string;
  runName: string;
  load: () => Promise<SnapshotNotebookResponse>;
  restore: () => void;
  /** Renders markdown cells; without it they show as source. */
  rendermime: IRenderMimeRegistry | null;
}): MainAreaWidget {
  const content = ReactWidget.create(
    <SnapshotBody load={options.load} runName={options.runName} restore={options.restore} rendermime={options.rendermime} />
  );
  return createMainAreaTab(content, {
    id: `runlab-snapshot-${options.runId}`,
    label: `${options.runName}: notebook (read-only)`,
    icon: runlabIcon
  });
}
