/**
 * A model version's page (main area): its aliases and actions (Deploy, Set alias), the run's
 * metrics, the signature, the input example, lineage (run, snapshot, dataset versions), the
 * requirements and files. Versions never change, except their aliases, description and tags,
 * which follow the registry live.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { UseSignal } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';
import type { ModelVersion, SignatureField } from '../../server/src/contract';
import { describeError } from '../shared/errors';
import { formatBytes, formatTime } from '../shared/format';
import { KeyValueTable } from '../shared/KeyValueTable';
import { createMainAreaTab } from '../shared/mainArea';
import { IRunlabConnection } from '../tokens';
import { metricEntries, parseDatasetRef, signatureRows } from './format';
import { modelsIcon } from './icons';
import { AliasChips, AliasHistory } from './ModelsPanel';
import { IModelsModel } from './tokens';

export interface IModelVersionActions {
  openRun(runId: string): void;
  openSnapshot(runId: string): void;
  revealDataset(name: string, version: string): void;
  showProvenance(node: string): void;
  deploy(name: string, version: number): void;
  setAlias(name: string, version: number): void;
  rollback(name: string, alias: string): void;
}

export function SignatureTable({ fields, label }: { fields: readonly SignatureField[] | null; label: 'Inputs' | 'Outputs' }): JSX.Element {
  const rows = signatureRows(fields, label === 'Inputs' ? 'input' : 'output');
  if (!rows.length) {
    return <p className="jp-runlab-Muted">{fields === null ? 'Not described (the example’s predictions could not be read).' : 'None.'}</p>;
  }
  return (
    <table className="jp-runlab-Table jp-runlab-SignatureTable" aria-label={label}>
      <thead>
        <tr>
          <th>Name</th>
          <th>Kind</th>
          <th>Type</th>
          <th>Shape</th>
          <th>Required</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.name} data-field={row.name}>
            <td>{row.name}</td>
            <td>{row.kind}</td>
            <td>{row.datatype}</td>
            <td>{row.shape}</td>
            <td>{row.required ? 'yes' : 'no'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Lineage({ version, actions }: { version: ModelVersion; actions: IModelVersionActions }): JSX.Element {
  return (
    <table className="jp-runlab-Table jp-runlab-Lineage">
      <tbody>
        <tr>
          <th scope="row">Run</th>
          <td>
            {version.runId ? (
              <button className="jp-runlab-Link jp-runlab-LineageRun" onClick={() => actions.openRun(version.runId!)}>
                {version.runName ?? version.runId}
              </button>
            ) : (
              'none (registered without a run)'
            )}
          </td>
        </tr>
        <tr>
          <th scope="row">Project</th>
          <td>{version.projectName ?? '—'}</td>
        </tr>
        <tr>
          <th scope="row">Notebook</th>
          <td>{version.notebookPath ?? '—'}</td>
        </tr>
        <tr>
          <th scope="row">Snapshot</th>
          <td>
            {version.snapshotCommit && version.runId ? (
              <button
                className="jp-runlab-Link"
                title="Open the notebook version the run was pinned to"
                onClick={() => actions.openSnapshot(version.runId!)}
              >
                {version.snapshotCommit.slice(0, 10)}
              </button>
            ) : (
              '—'
            )}
          </td>
        </tr>
        <tr>
          <th scope="row">Datasets</th>
          <td>
            {version.datasetVersions.length
              ? version.datasetVersions.map((dataset, index) => {
                  const parsed = parseDatasetRef(dataset.ref);
                  return (
                    <React.Fragment key={dataset.id}>
                      {index > 0 && ', '}
                      {parsed ? (
                        <button className="jp-runlab-Link" onClick={() => actions.revealDataset(parsed.name, parsed.version)}>
                          {dataset.ref}
                        </button>
                      ) : (
                        dataset.ref
                      )}
                    </React.Fragment>
                  );
                })
              : 'none recorded'}
          </td>
        </tr>
        <tr>
          <th scope="row">Provenance</th>
          <td>
            <button className="jp-runlab-Link" onClick={() => actions.showProvenance(`model_version:${version.id}`)}>
              Show the graph
            </button>
          </td>
        </tr>
      </tbody>
    </table>
  );
}

function VersionBody({
  version,
  registry,
  actions
}: {
  version: ModelVersion;
  registry: IModelsModel;
  actions: IModelVersionActions;
}): JSX.Element {
  const history = (registry.history(version.modelName) ?? []).filter(
    (move) => move.toVersion === version.version || move.fromVersion === version.version
  );
  const metrics = metricEntries(version.runMetrics);
  const tags = Object.entries(version.tags);
  return (
    <div className="jp-runlab-ModelVersionView" data-model={version.modelName} data-version={version.version}>
      <header className="jp-runlab-RunHeader">
        <h1>
          {version.modelName} <span className="jp-runlab-Muted">v{version.version}</span> <AliasChips aliases={version.aliases} />
        </h1>
        <div className="jp-runlab-RunHeader-facts">
          <span className="jp-runlab-Badge jp-runlab-Flavor">{version.flavor}</span>
          <span>
            logged {formatTime(version.createdAt)} by {version.createdBy}
            {version.source === 'mlflow' && ' (MLflow client)'}
          </span>
          <span className="jp-runlab-Muted">{formatBytes(version.sizeBytes)}</span>
          <button
            className="jp-Button jp-mod-styled jp-mod-accept jp-runlab-Small jp-runlab-DeployVersion"
            onClick={() => actions.deploy(version.modelName, version.version)}
          >
            Deploy…
          </button>
          <button className="jp-Button jp-mod-styled jp-runlab-Small" onClick={() => actions.setAlias(version.modelName, version.version)}>
            Set alias…
          </button>
        </div>
      </header>
      {version.description && <p className="jp-runlab-ModelDescription">{version.description}</p>}
      <section className="jp-runlab-RunSection" aria-label="Run metrics">
        <h2>Metrics of its run</h2>
        <KeyValueTable entries={metrics} empty="The run logged no metrics." />
      </section>
      <section className="jp-runlab-RunSection" aria-label="Signature">
        <h2>Signature</h2>
        {version.signature ? (
          <div className="jp-runlab-Signature">
            <h3 className="jp-runlab-ModelSectionTitle">Inputs</h3>
            <SignatureTable fields={version.signature.inputs} label="Inputs" />
            <h3 className="jp-runlab-ModelSectionTitle">Outputs</h3>
            <SignatureTable fields={version.signature.outputs} label="Outputs" />
          </div>
        ) : (
          <p className="jp-runlab-Muted">No signature: log the model with an input_example to describe its inputs.</p>
        )}
        {version.inputExample !== null && version.inputExample !== undefined && (
          <>
            <h3 className="jp-runlab-ModelSectionTitle">Input example</h3>
            <pre className="jp-runlab-Code jp-runlab-InputExample">{JSON.stringify(version.inputExample)}</pre>
          </>
        )}
      </section>
      <section className="jp-runlab-RunSection" aria-label="Lineage">
        <h2>Lineage</h2>
        <Lineage version={version} actions={actions} />
      </section>
      <section className="jp-runlab-RunSection" aria-label="Aliases">
        <h2>Alias moves to and from this version</h2>
        <AliasHistory moves={history} />
      </section>
      <section className="jp-runlab-RunSection" aria-label="Requirements">
        <h2>Requirements</h2>
        {version.requirements.length ? (
          <pre className="jp-runlab-Packages">{version.requirements.join('\n')}</pre>
        ) : (
          <p className="jp-runlab-Muted">None recorded.</p>
        )}
      </section>
      <section className="jp-runlab-RunSection" aria-label="Files">
        <h2>Files</h2>
        <KeyValueTable entries={version.files.map((file) => [file.path, formatBytes(file.size)] as const)} empty="No files." />
      </section>
      {tags.length > 0 && (
        <section className="jp-runlab-RunSection" aria-label="Tags">
          <h2>Tags</h2>
          <KeyValueTable entries={tags} />
        </section>
      )}
    </div>
  );
}

/** The version as last read, with its aliases kept live from the registry. */
function VersionPage({
  connection,
  registry,
  name,
  selector,
  actions
}: {
  connection: IRunlabConnection;
  registry: IModelsModel;
  name: string;
  selector: string;
  actions: IModelVersionActions;
}): JSX.Element {
  const [version, setVersion] = useState<ModelVersion | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    connection.api.models
      .getModelVersion({ params: { name, version: selector } })
      .then(setVersion, (reason) => setError(describeError(`Could not load ${name}@${selector}`, reason, 'models')));
    void registry.loadHistory(name).catch(() => undefined);
    void registry.loadVersions(name).catch(() => undefined);
  }, [name, selector]);
  if (!version) {
    return (
      <div className="jp-runlab-ModelVersionView">
        <p className={error ? 'jp-runlab-Message' : 'jp-runlab-Muted'} role={error ? 'alert' : undefined}>
          {error ?? 'Loading model version…'}
        </p>
      </div>
    );
  }
  const live = registry.versions(name)?.find((candidate) => candidate.id === version.id) ?? version;
  return <VersionBody version={live} registry={registry} actions={actions} />;
}

/** A main-area tab showing one version; `selector` is a number (3, v3), latest or an alias, read once. */
export function createModelVersionView(
  connection: IRunlabConnection,
  registry: IModelsModel,
  name: string,
  selector: string,
  actions: IModelVersionActions
): MainAreaWidget {
  const content = ReactWidget.create(
    <UseSignal signal={registry.changed}>
      {() => <VersionPage connection={connection} registry={registry} name={name} selector={selector} actions={actions} />}
    </UseSignal>
  );
  content.addClass('jp-runlab-ModelVersionViewContainer');
  return createMainAreaTab(content, {
    id: `runlab-model-${name}-${selector}`,
    label: `Model: ${name} ${/^\d+$/.test(selector) ? `v${selector}` : selector}`,
    icon: modelsIcon,
    caption: `${name}@${selector} in the model registry`
  });
}
