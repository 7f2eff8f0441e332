/**
 * The Models sidebar: registered models (searchable), and for an opened model its versions
 * newest first (run metrics, flavor, aliases), its aliases with Roll back, and every alias move.
 */
import { UseSignal } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';
import type { AliasMove, Model, ModelVersion } from '../../server/src/contract';
import { serverListPlaceholder, StaleListError } from '../shared/serverListPlaceholder';
import { formatTime, relativeTime } from '../shared/format';
import { canRollBack, filterModels, metricsSummary, moveText, versionLabel } from './format';
import { IModelsModel } from './tokens';

export interface IModelsPanelActions {
  openVersion(name: string, version: number): void;
  openRun(runId: string): void;
  deploy(name: string, version: number): void;
  setAlias(name: string, version?: number): void;
  rollback(name: string, alias: string): void;
}

export function AliasChips({ aliases }: { aliases: readonly string[] }): JSX.Element | null {
  if (!aliases.length) {
    return null;
  }
  return (
    <span className="jp-runlab-AliasChips">
      {aliases.map((alias) => (
        <span key={alias} className="jp-runlab-AliasChip" data-alias={alias} title={`@${alias}`}>
          {alias}
        </span>
      ))}
    </span>
  );
}

export function ModelsEmptyState(): JSX.Element {
  return (
    <div className="jp-runlab-ModelsEmpty">
      <p>
        <strong>No models yet:</strong> call <code>runlab.model(...)</code> in a run.
      </p>
      <pre className="jp-runlab-Code">
        {'with runlab.start():\n    model = LogisticRegression().fit(X, y)\n    runlab.model(model, name="iris", input_example=X[:5])'}
      </pre>
      <p className="jp-runlab-Muted">
        Each call logs a version with its signature, its run&apos;s metrics and lineage. Models logged with <code>mlflow</code> (
        <code>registered_model_name=</code>) appear here too. <strong>Deploy model</strong> in a notebook&apos;s toolbar serves one.
      </p>
    </div>
  );
}

function VersionRow({ version, actions }: { version: ModelVersion; actions: IModelsPanelActions }): JSX.Element {
  const metrics = metricsSummary(version.runMetrics);
  return (
    <li className="jp-runlab-ModelVersionRow" data-version={version.version}>
      <div className="jp-runlab-ModelVersionRow-head">
        <button
          className="jp-runlab-Link jp-runlab-ModelVersionLink"
          title={`Open ${version.modelName} v${version.version}`}
          onClick={() => actions.openVersion(version.modelName, version.version)}
        >
          {versionLabel(version.version)}
        </button>
        <span className="jp-runlab-Badge jp-runlab-Flavor">{version.flavor}</span>
        <AliasChips aliases={version.aliases} />
        <span className="jp-runlab-Muted jp-runlab-ModelVersionRow-time" title={formatTime(version.createdAt)}>
          {relativeTime(version.createdAt)}
        </span>
      </div>
      <div className="jp-runlab-ModelVersionRow-detail">
        {metrics ? <span className="jp-runlab-ModelMetrics">{metrics}</span> : <span className="jp-runlab-Muted">no run metrics</span>}
        {version.runId && (
          <button className="jp-runlab-Link" title="Open the run that logged it" onClick={() => actions.openRun(version.runId!)}>
            {version.runName ?? version.runId.slice(0, 8)}
          </button>
        )}
      </div>
      <div className="jp-runlab-ModelVersionRow-actions">
        <button className="jp-Button jp-mod-styled jp-runlab-Small" onClick={() => actions.deploy(version.modelName, version.version)}>
          Deploy…
        </button>
        <button className="jp-Button jp-mod-styled jp-runlab-Small" onClick={() => actions.setAlias(version.modelName, version.version)}>
          Set alias…
        </button>
      </div>
    </li>
  );
}

export function AliasHistory({ moves }: { moves: readonly AliasMove[] }): JSX.Element {
  if (!moves.length) {
    return <p className="jp-runlab-Muted">No alias moves yet.</p>;
  }
  return (
    <ol className="jp-runlab-AliasHistory" aria-label="Alias history">
      {moves.map((move) => (
        <li key={move.id} className="jp-runlab-HistoryEntry jp-runlab-AliasMove" data-alias={move.alias} data-action={move.action}>
          <span className="jp-runlab-AliasChip">{move.alias}</span>{' '}
          <strong className="jp-runlab-AliasMove-versions">{moveText(move)}</strong>
          {move.action === 'rollback' && <span className="jp-runlab-Badge jp-runlab-AliasMove-action">rollback</span>}
          <span className="jp-runlab-Muted jp-runlab-AliasMove-who" title={formatTime(move.movedAt)}>
            {' '}
            by {move.movedBy}, {relativeTime(move.movedAt)}
          </span>
          {move.reason && <div className="jp-runlab-AliasMove-reason">“{move.reason}”</div>}
        </li>
      ))}
    </ol>
  );
}

function ModelDetail({ model, registry, actions }: { model: Model; registry: IModelsModel; actions: IModelsPanelActions }): JSX.Element {
  const [error, setError] = useState<string | null>(null);
  const versions = registry.versions(model.name);
  const history = registry.history(model.name);
  useEffect(() => {
    Promise.all([registry.loadVersions(model.name), registry.loadHistory(model.name)]).then(
      () => setError(null),
      (reason: Error) => setError(`Could not load ${model.name}'s versions: ${reason.message}`)
    );
  }, [model.name, model.versionCount]);
  const aliases = Object.entries(model.aliases).sort(([a], [b]) => a.localeCompare(b));
  return (
    <div className="jp-runlab-ModelDetail">
      {error && (
        <p className="jp-runlab-Message" role="alert">
          {error}
        </p>
      )}
      {model.description && <p className="jp-runlab-ModelDescription">{model.description}</p>}
      <h3 className="jp-runlab-ModelSectionTitle">Aliases</h3>
      {aliases.length ? (
        <ul className="jp-runlab-AliasList" aria-label={`Aliases of ${model.name}`}>
          {aliases.map(([alias, version]) => (
            <li key={alias} className="jp-runlab-AliasRow" data-alias={alias}>
              <span className="jp-runlab-AliasChip">{alias}</span>
              <span className="jp-runlab-AliasRow-version">→ {versionLabel(version)}</span>
              <button
                className="jp-Button jp-mod-styled jp-runlab-Small jp-runlab-AliasRollback"
                disabled={!history || !canRollBack(history, alias)}
                title={`Move ${alias} back to the version it pointed at before its last move`}
                onClick={() => actions.rollback(model.name, alias)}
              >
                Roll back
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="jp-runlab-Muted">No aliases: point one (production, staging…) at a version to deploy by name.</p>
      )}
      <button className="jp-Button jp-mod-styled jp-runlab-Small jp-runlab-SetAlias" onClick={() => actions.setAlias(model.name)}>
        Set alias…
      </button>
      <h3 className="jp-runlab-ModelSectionTitle">Versions</h3>
      {versions ? (
        <ul className="jp-runlab-ModelVersionList" aria-label={`Versions of ${model.name}`}>
          {versions.map((version) => (
            <VersionRow key={version.id} version={version} actions={actions} />
          ))}
        </ul>
      ) : (
        <p className="jp-runlab-Muted">Loading versions…</p>
      )}
      <details
        className="jp-runlab-HistorySection jp-runlab-AliasHistorySection"
        open={!!history && history.length > 0 && history.length <= 5}
      >
        <summary>Alias history{history ? ` (${history.length})` : ''}</summary>
        {history ? <AliasHistory moves={history} /> : <p className="jp-runlab-Muted">Loading…</p>}
      </details>
    </div>
  );
}

function ModelRow({
  model,
  registry,
  open,
  toggle,
  actions
}: {
  model: Model;
  registry: IModelsModel;
  open: boolean;
  toggle: () => void;
  actions: IModelsPanelActions;
}): JSX.Element {
  const aliases = Object.keys(model.aliases).sort();
  return (
    <li className="jp-runlab-ModelRow" data-model={model.name}>
      <button className="jp-runlab-ModelRow-head" aria-expanded={open} onClick={toggle}>
        <span className={`jp-runlab-Caret${open ? ' jp-mod-expanded' : ''}`} aria-hidden="true" />
        <strong className="jp-runlab-ModelRow-name">{model.name}</strong>
        <span className="jp-runlab-Muted jp-runlab-ModelRow-count">
          {model.versionCount} {model.versionCount === 1 ? 'version' : 'versions'}
          {model.latestVersion !== null && ` · latest v${model.latestVersion}`}
        </span>
        <AliasChips aliases={aliases.map((alias) => `${alias} v${model.aliases[alias]}`)} />
      </button>
      {open && <ModelDetail model={model} registry={registry} actions={actions} />}
    </li>
  );
}

function ModelsList({ registry, actions }: { registry: IModelsModel; actions: IModelsPanelActions }): JSX.Element {
  const [query, setQuery] = useState('');
  const [openNames, setOpenNames] = useState<ReadonlySet<string>>(new Set());
  // With a single model there is nothing to choose: show it opened.
  const single = registry.models.length === 1 ? registry.models[0].name : null;
  const placeholder = serverListPlaceholder({
    list: registry,
    count: registry.models.length,
    bodyClass: 'jp-runlab-ModelsBody',
    loadingText: 'Loading models…',
    empty: <ModelsEmptyState />
  });
  if (placeholder) {
    return placeholder;
  }
  const shown = filterModels(registry.models, query);
  const isOpen = (name: string) => (openNames.has(name) ? true : name === single && !openNames.has(`!${name}`));
  const toggle = (name: string) =>
    setOpenNames((names) => {
      const next = new Set(names);
      const wasOpen = isOpen(name);
      next.delete(name);
      next.delete(`!${name}`);
      if (!wasOpen) {
        next.add(name);
      } else if (name === single) {
        next.add(`!${name}`);
      }
      return next;
    });
  return (
    <div className="jp-runlab-ModelsBody">
      <input
        className="jp-mod-styled jp-runlab-ModelsSearch"
        type="search"
        aria-label="Search models"
        placeholder="Search models, aliases, tags…"
        value={query}
        onChange={(event) => setQuery(event.target.value)}
      />
      <StaleListError list={registry} />
      <p className="jp-runlab-Muted jp-runlab-ModelsCount">
        {query ? `${shown.length} of ${registry.models.length}` : registry.models.length}{' '}
        {registry.models.length === 1 ? 'model' : 'models'}
      </p>
      <ul className="jp-runlab-ModelList" aria-label="Models">
        {shown.map((model) => (
          <ModelRow
            key={model.name}
            model={model}
            registry={registry}
            open={isOpen(model.name)}
            toggle={() => toggle(model.name)}
            actions={actions}
          />
        ))}
      </ul>
      {!shown.length && <p className="jp-runlab-Muted">No model matches “{query}”.</p>}
    </div>
  );
}

export function ModelsPanelView({ registry, actions }: { registry: IModelsModel; actions: IModelsPanelActions }): JSX.Element {
  return <UseSignal signal={registry.changed}>{() => <ModelsList registry={registry} actions={actions} />}</UseSignal>;
}
