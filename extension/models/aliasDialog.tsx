/**
 * Set alias: point an alias (production, staging, any name) at a version, with a reason for the
 * history. The move is conditional on where the alias pointed when the dialog opened, so a move
 * someone else made meanwhile is refused (409) instead of overwritten; the dialog says so.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import React, { useState } from 'react';
import type { AliasMove, Model, ModelVersion } from '../../server/src/contract';
import { RunlabRequestError } from '../request';
import { SubmittingDialog } from '../runners/dialog';
import { describeError } from '../shared/errors';
import { metricsSummary } from './format';
import { IModelsModel } from './tokens';

interface IAliasValues {
  alias: string;
  version: number;
  reason: string;
}

function AliasForm({
  values,
  model,
  versions,
  error
}: {
  values: IAliasValues;
  model: Model;
  versions: readonly ModelVersion[];
  error: string | null;
}): JSX.Element {
  const [, setRevision] = useState(0);
  const edit = (change: () => void) => {
    change();
    setRevision((revision) => revision + 1);
  };
  const current = model.aliases[values.alias.trim()];
  return (
    <div className="jp-runlab-AliasForm">
      {error && (
        <p className="jp-runlab-Message jp-runlab-RunForm-error" role="alert">
          {error}
        </p>
      )}
      <label className="jp-runlab-Field">
        <span>Alias</span>
        <input
          className="jp-mod-styled"
          aria-label="Alias"
          list="jp-runlab-alias-names"
          placeholder="production"
          value={values.alias}
          onChange={(event) => edit(() => (values.alias = event.target.value))}
        />
        <datalist id="jp-runlab-alias-names">
          {[...new Set(['production', 'staging', ...Object.keys(model.aliases)])].map((alias) => (
            <option key={alias} value={alias} />
          ))}
        </datalist>
      </label>
      <p className="jp-runlab-Muted">
        {current === undefined ? 'A new alias.' : `Now on v${current}: the move is recorded in its history, and Roll back undoes it.`}
      </p>
      <label className="jp-runlab-Field">
        <span>Version</span>
        <select
          className="jp-mod-styled"
          aria-label="Version"
          value={values.version}
          onChange={(event) => edit(() => (values.version = Number(event.target.value)))}
        >
          {versions.map((version) => (
            <option key={version.id} value={version.version}>
              v{version.version}
              {metricsSummary(version.runMetrics, 2) && ` — ${metricsSummary(version.runMetrics, 2)}`}
            </option>
          ))}
        </select>
      </label>
      <label className="jp-runlab-Field">
        <span>Reason (kept in the history)</span>
        <input
          className="jp-mod-styled"
          aria-label="Reason"
          placeholder="e.g. better accuracy on the holdout set"
          value={values.reason}
          onChange={(event) => edit(() => (values.reason = event.target.value))}
        />
      </label>
    </div>
  );
}

class AliasBody extends ReactWidget {
  error: string | null = null;
  constructor(
    readonly values: IAliasValues,
    private readonly _model: Model,
    private readonly _versions: readonly ModelVersion[]
  ) {
    super();
    this.addClass('jp-runlab-AliasDialog');
  }
  protected render(): JSX.Element {
    return <AliasForm values={this.values} model={this._model} versions={this._versions} error={this.error} />;
  }
}

function refusal(error: unknown, alias: string): string {
  if (error instanceof RunlabRequestError && error.status === 409) {
    return `${alias} was moved by someone else meanwhile: ${error.message} Close this dialog and look at its history first.`;
  }
  if (error instanceof RunlabRequestError && error.status === 400) {
    return [error.message, ...error.details.map((problem) => problem.message)].join(' ');
  }
  return describeError(`Could not move ${alias}`, error, 'models');
}

/** Asks alias, version and reason, then moves the alias; answers the move, or null when cancelled. */
export async function setAliasDialog(
  registry: IModelsModel,
  name: string,
  options: { version?: number; alias?: string } = {}
): Promise<AliasMove | null> {
  const [versions] = await Promise.all([registry.loadVersions(name), registry.model(name) ? null : registry.refresh()]);
  const model = registry.model(name);
  if (!model || !versions.length) {
    throw new Error(`${name} has no versions to point an alias at.`);
  }
  const values: IAliasValues = { alias: options.alias ?? 'production', version: options.version ?? versions[0].version, reason: '' };
  // Where each alias pointed when the dialog opened: the move is conditional on it.
  const seen = { ...model.aliases };
  const body = new AliasBody(values, model, versions);
  let move: AliasMove | null = null;
  const dialog = new SubmittingDialog<unknown>(
    { title: `Set an alias of ${name}`, body, buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Set alias' })] },
    async () => {
      const alias = values.alias.trim();
      if (!alias) {
        body.error = 'Name the alias (production, staging, …).';
        body.update();
        return false;
      }
      try {
        move = await registry.setAlias(name, alias, values.version, values.reason.trim(), seen[alias] ?? null);
        return true;
      } catch (error) {
        body.error = refusal(error, alias);
        body.update();
        return false;
      }
    }
  );
  const result = await dialog.launch();
  return result.button.accept ? move : null;
}
