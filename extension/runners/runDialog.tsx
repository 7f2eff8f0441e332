/**
 * Run on Runner: the dialog that sends the notebook in focus (as it is now, unsaved edits
 * included) to a runner as a job, with labels, parameters from its `parameters` cell, dataset
 * versions from its pins, the environment mode and a timeout. A value the server refuses (400)
 * is shown in the dialog, which stays open to fix it.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { UseSignal } from '@jupyterlab/ui-components';
import React from 'react';
import type { Job } from '../../server/src/contract';
import { IRunlabConnection } from '../tokens';
import { refusal, SubmittingDialog } from './dialog';
import { FormError, RunnersOnline, useEdit } from './formParts';
import { buildJobRequest, IRunValues, notebookDatasetPins } from './jobRequest';
import { declaredParameters, IDeclaredParameter } from './parameters';
import { IRunnersModel } from './tokens';

function typeText(parameter: IDeclaredParameter): string {
  return parameter.type ?? 'any';
}

function RunForm({
  values,
  declared,
  runners,
  error
}: {
  values: IRunValues;
  declared: readonly IDeclaredParameter[];
  runners: IRunnersModel;
  error: string | null;
}): JSX.Element {
  const edit = useEdit();
  const knownLabels = [...new Set(runners.runners.flatMap((runner) => runner.labels))].sort();
  return (
    <div className="jp-runlab-RunForm">
      <FormError error={error} />
      <RunnersOnline runners={runners} what="the job" />
      <label className="jp-runlab-Field">
        <span>Runner labels</span>
        <input
          className="jp-mod-styled"
          aria-label="Runner labels"
          placeholder={knownLabels.length ? `any runner; or e.g. ${knownLabels.slice(0, 3).join(', ')}` : 'any runner'}
          value={values.labels}
          onChange={(event) => edit(() => (values.labels = event.target.value))}
        />
      </label>
      <fieldset className="jp-runlab-RunForm-section">
        <legend>Parameters</legend>
        {declared.length ? (
          <table className="jp-runlab-Table jp-runlab-ParametersTable">
            <tbody>
              {declared.map((parameter) => (
                <tr key={parameter.name} data-parameter={parameter.name}>
                  <th scope="row">
                    <code>{parameter.name}</code>
                  </th>
                  <td className="jp-runlab-Muted">{typeText(parameter)}</td>
                  <td>
                    <input
                      className="jp-mod-styled"
                      aria-label={`Parameter ${parameter.name}`}
                      value={values.parameters[parameter.name] ?? parameter.expression}
                      title={parameter.help ?? undefined}
                      onChange={(event) => edit(() => (values.parameters[parameter.name] = event.target.value))}
                    />
                  </td>
                  <td className="jp-runlab-Muted">{parameter.help}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="jp-runlab-Muted">
            This notebook has no cell tagged <code>parameters</code>: it runs as it is. Tag a cell of assignments (<code>epochs = 10</code>)
            to set values per job.
          </p>
        )}
      </fieldset>
      <fieldset className="jp-runlab-RunForm-section">
        <legend>Dataset versions</legend>
        {Object.keys(values.datasets).length ? (
          <table className="jp-runlab-Table">
            <tbody>
              {Object.keys(values.datasets).map((name) => (
                <tr key={name} data-dataset={name}>
                  <th scope="row">{name}</th>
                  <td>
                    <input
                      className="jp-mod-styled"
                      aria-label={`Version of ${name}`}
                      value={values.datasets[name]}
                      onChange={(event) => edit(() => (values.datasets[name] = event.target.value))}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="jp-runlab-Muted">No dataset versions pinned: the job loads the latest versions (pin them with the Data button).</p>
        )}
      </fieldset>
      <fieldset className="jp-runlab-RunForm-section">
        <legend>Environment</legend>
        <label className="jp-runlab-Radio">
          <input type="radio" name="jp-runlab-env" checked={values.env === 'runner'} onChange={() => edit(() => (values.env = 'runner'))} />{' '}
          The runner&apos;s Python
        </label>
        <label className="jp-runlab-Radio">
          <input
            type="radio"
            name="jp-runlab-env"
            checked={values.env === 'recreate'}
            onChange={() => edit(() => (values.env = 'recreate'))}
          />{' '}
          Recreate this notebook&apos;s packages
        </label>
      </fieldset>
      <label className="jp-runlab-Field">
        <span>Timeout (minutes)</span>
        <input
          className="jp-mod-styled"
          aria-label="Timeout in minutes"
          inputMode="decimal"
          placeholder="none"
          value={values.timeoutMinutes}
          onChange={(event) => edit(() => (values.timeoutMinutes = event.target.value))}
        />
      </label>
    </div>
  );
}

class RunBody extends ReactWidget {
  error: string | null = null;
  constructor(
    readonly values: IRunValues,
    private readonly _declared: readonly IDeclaredParameter[],
    private readonly _runners: IRunnersModel
  ) {
    super();
    this.addClass('jp-runlab-RunDialog');
  }
  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._runners.changed}>
        {() => <RunForm values={this.values} declared={this._declared} runners={this._runners} error={this.error} />}
      </UseSignal>
    );
  }
}

/** Opens the dialog for `panel`; answers the queued job, or null when cancelled. */
export async function runOnRunnerDialog(
  connection: IRunlabConnection,
  runners: IRunnersModel,
  panel: NotebookPanel,
  project: string
): Promise<Job | null> {
  const notebook = (panel.model?.toJSON() ?? {}) as Record<string, unknown>;
  const declared = declaredParameters(notebook);
  const values: IRunValues = {
    labels: '',
    parameters: Object.fromEntries(declared.map((parameter) => [parameter.name, parameter.expression])),
    datasets: notebookDatasetPins(notebook.metadata),
    env: 'runner',
    timeoutMinutes: ''
  };
  void runners.refresh();
  const body = new RunBody(values, declared, runners);
  let job: Job | null = null;
  const buttons = [Dialog.cancelButton(), Dialog.okButton({ label: 'Run' })];
  const dialog = new SubmittingDialog<unknown>({ title: `Run ${panel.context.localPath} on a runner`, body, buttons }, async () => {
    try {
      // The notebook as it is now: edits made while the dialog was open count too.
      const content = (panel.model?.toJSON() ?? notebook) as Record<string, unknown>;
      const request = buildJobRequest(values, declared, { project, notebookPath: panel.context.path, notebook: content });
      job = await connection.api.runners.submitJob({ body: request });
      return true;
    } catch (error) {
      body.error = refusal(error, 'Could not submit the job');
      body.update();
      return false;
    }
  });
  const result = await dialog.launch();
  return result.button.accept ? job : null;
}
