/**
 * Sweep…: the dialog that sends the notebook in focus (as it is now) to the runners as a sweep.
 * It lists the parameters its `parameters` cell declares; ticking one sweeps it over a range that
 * starts around the cell's value, the others keep a value every trial gets. The objective is
 * offered from the metrics this notebook's runs logged. A value the server refuses (400) is shown
 * in the dialog, which stays open to fix it.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { UseSignal } from '@jupyterlab/ui-components';
import { Signal } from '@lumino/signaling';
import React from 'react';
import type { Sweep } from '../../server/src/contract';
import { refusal, SubmittingDialog } from '../runners/dialog';
import { FormError, RunnersOnline, useEdit } from '../runners/formParts';
import { notebookDatasetPins } from '../runners/jobRequest';
import { declaredParameters, IDeclaredParameter } from '../runners/parameters';
import type { IRunnersModel } from '../runners/tokens';
import { IRunlabConnection } from '../tokens';
import { TextField } from '../shared/TextField';
import { buildSweepRequest, initialSweepValues, ISweepValues, RANGE_TYPES, RangeType } from './sweepRequest';

function RangeRow({
  parameter,
  values,
  edit
}: {
  parameter: IDeclaredParameter;
  values: ISweepValues;
  edit(change: () => void): void;
}): JSX.Element {
  const row = values.ranges[parameter.name];
  const name = parameter.name;
  return (
    <tr data-parameter={name}>
      <th scope="row">
        <label className="jp-runlab-SweepForm-sweep">
          <input
            type="checkbox"
            aria-label={`Sweep ${name}`}
            checked={row.swept}
            onChange={(event) => edit(() => (row.swept = event.target.checked))}
          />{' '}
          <code>{name}</code>
        </label>
      </th>
      <td className="jp-runlab-Muted">{parameter.type ?? 'any'}</td>
      {row.swept ? (
        <td className="jp-runlab-SweepForm-range">
          <select
            className="jp-mod-styled"
            aria-label={`Range of ${name}`}
            value={row.type}
            onChange={(event) => edit(() => (row.type = event.target.value as RangeType))}
          >
            {RANGE_TYPES.map((option) => (
              <option key={option.type} value={option.type}>
                {option.label}
              </option>
            ))}
          </select>
          {row.type === 'choice' ? (
            <input
              className="jp-mod-styled"
              aria-label={`Values of ${name}`}
              placeholder="e.g. 3, 5, 8"
              value={row.values}
              onChange={(event) => edit(() => (row.values = event.target.value))}
            />
          ) : (
            <>
              <input
                className="jp-mod-styled jp-runlab-SweepForm-bound"
                aria-label={`Low of ${name}`}
                inputMode="decimal"
                value={row.low}
                onChange={(event) => edit(() => (row.low = event.target.value))}
              />
              <span className="jp-runlab-Muted">to</span>
              <input
                className="jp-mod-styled jp-runlab-SweepForm-bound"
                aria-label={`High of ${name}`}
                inputMode="decimal"
                value={row.high}
                onChange={(event) => edit(() => (row.high = event.target.value))}
              />
            </>
          )}
        </td>
      ) : (
        <td>
          <input
            className="jp-mod-styled"
            aria-label={`Value of ${name}`}
            title="Every trial gets this value"
            value={row.fixed}
            onChange={(event) => edit(() => (row.fixed = event.target.value))}
          />
        </td>
      )}
      <td className="jp-runlab-Muted">{parameter.help}</td>
    </tr>
  );
}

function SweepForm({
  values,
  declared,
  objectives,
  runners,
  error
}: {
  values: ISweepValues;
  declared: readonly IDeclaredParameter[];
  objectives: readonly string[];
  runners: IRunnersModel | null;
  error: string | null;
}): JSX.Element {
  const edit = useEdit();
  const pins = Object.entries(values.datasets);
  return (
    <div className="jp-runlab-RunForm jp-runlab-SweepForm">
      <FormError error={error} />
      {runners && <RunnersOnline runners={runners} what="the trials" />}
      <fieldset className="jp-runlab-RunForm-section">
        <legend>Parameters: tick the ones to sweep</legend>
        {declared.length ? (
          <table className="jp-runlab-Table jp-runlab-ParametersTable jp-runlab-SweepForm-params">
            <tbody>
              {declared.map((parameter) => (
                <RangeRow key={parameter.name} parameter={parameter} values={values} edit={edit} />
              ))}
            </tbody>
          </table>
        ) : (
          <p className="jp-runlab-Muted">
            This notebook has no cell tagged <code>parameters</code>, so there is nothing to sweep. Tag a cell of assignments (
            <code>lr = 0.01</code>) and open this dialog again.
          </p>
        )}
      </fieldset>
      <div className="jp-runlab-SweepForm-grid">
        <label className="jp-runlab-Field">
          <span>Objective (a metric the notebook logs)</span>
          <input
            className="jp-mod-styled"
            aria-label="Objective"
            list="jp-runlab-sweep-objectives"
            placeholder={objectives[0] ? `e.g. ${objectives[0]}` : 'e.g. accuracy'}
            value={values.objective}
            onChange={(event) => edit(() => (values.objective = event.target.value))}
          />
          <datalist id="jp-runlab-sweep-objectives">
            {objectives.map((key) => (
              <option key={key} value={key} />
            ))}
          </datalist>
        </label>
        <label className="jp-runlab-Field">
          <span>Goal</span>
          <select
            className="jp-mod-styled"
            aria-label="Goal"
            value={values.goal}
            onChange={(event) => edit(() => (values.goal = event.target.value as ISweepValues['goal']))}
          >
            <option value="maximize">maximize</option>
            <option value="minimize">minimize</option>
          </select>
        </label>
        <label className="jp-runlab-Field">
          <span>Search</span>
          <select
            className="jp-mod-styled"
            aria-label="Search method"
            value={values.method}
            onChange={(event) => edit(() => (values.method = event.target.value as ISweepValues['method']))}
          >
            <option value="random">random</option>
            <option value="bayes">Bayesian (TPE)</option>
            <option value="grid">grid</option>
          </select>
        </label>
        <TextField
          label="Trials"
          aria="Trials"
          inputMode="numeric"
          placeholder={values.method === 'grid' ? 'the whole grid' : '10'}
          value={values.trials}
          onChange={(text) => edit(() => (values.trials = text))}
        />
        <TextField
          label="At once"
          aria="Trials at once"
          inputMode="numeric"
          value={values.parallel}
          onChange={(text) => edit(() => (values.parallel = text))}
        />
        <TextField
          label="Seed"
          aria="Seed"
          inputMode="numeric"
          placeholder="random, recorded"
          value={values.seed}
          onChange={(text) => edit(() => (values.seed = text))}
        />
        <TextField
          label="Runner labels"
          aria="Runner labels"
          placeholder="any runner"
          value={values.labels}
          onChange={(text) => edit(() => (values.labels = text))}
        />
        <TextField
          label="Timeout per trial (minutes)"
          aria="Timeout in minutes"
          inputMode="decimal"
          placeholder="none"
          value={values.timeoutMinutes}
          onChange={(text) => edit(() => (values.timeoutMinutes = text))}
        />
      </div>
      <label
        className="jp-runlab-Radio"
        title="Stop a trial whose best value so far is worse than the median of the completed trials at the same step (after 5 trials and 5 steps)"
      >
        <input
          type="checkbox"
          aria-label="Stop bad trials early"
          checked={values.earlyStop}
          onChange={(event) => edit(() => (values.earlyStop = event.target.checked))}
        />{' '}
        Stop clearly bad trials early (median rule)
      </label>
      <p className="jp-runlab-Muted">
        {pins.length
          ? `Every trial loads ${pins.map(([name, version]) => `${name} ${version}`).join(', ')} (this notebook's pins).`
          : 'No dataset versions pinned: every trial loads the versions that are latest when the sweep starts.'}
      </p>
    </div>
  );
}

class SweepBody extends ReactWidget {
  error: string | null = null;
  constructor(
    readonly values: ISweepValues,
    private readonly _declared: readonly IDeclaredParameter[],
    private readonly _objectives: readonly string[],
    private readonly _runners: IRunnersModel | null
  ) {
    super();
    this.addClass('jp-runlab-RunDialog');
    this.addClass('jp-runlab-SweepDialog');
  }
  protected render(): JSX.Element {
    return (
      <UseSignal<unknown, void> signal={this._runners?.changed ?? this._never}>
        {() => (
          <SweepForm
            values={this.values}
            declared={this._declared}
            objectives={this._objectives}
            runners={this._runners}
            error={this.error}
          />
        )}
      </UseSignal>
    );
  }
  private readonly _never = new Signal<unknown, void>(this);
}

/**
 * Opens the dialog for `panel`; answers the started sweep, or null when cancelled.
 * `objectives`: metric keys this notebook's runs logged, most used first.
 */
export async function sweepDialog(
  connection: IRunlabConnection,
  runners: IRunnersModel | null,
  panel: NotebookPanel,
  project: string,
  objectives: readonly string[]
): Promise<Sweep | null> {
  const notebook = (panel.model?.toJSON() ?? {}) as Record<string, unknown>;
  const declared = declaredParameters(notebook);
  const values = initialSweepValues(declared, notebookDatasetPins(notebook.metadata));
  values.objective = objectives[0] ?? '';
  void runners?.refresh();
  const online = runners?.runners.filter((runner) => runner.status === 'online').length ?? 1;
  values.parallel = String(Math.min(4, Math.max(1, online)));
  const body = new SweepBody(values, declared, objectives, runners);
  let sweep: Sweep | null = null;
  const buttons = [Dialog.cancelButton(), Dialog.okButton({ label: 'Start sweep' })];
  const dialog = new SubmittingDialog<unknown>({ title: `Sweep ${panel.context.localPath}`, body, buttons }, async () => {
    try {
      const content = (panel.model?.toJSON() ?? notebook) as Record<string, unknown>;
      const request = buildSweepRequest(values, declared, { project, notebookPath: panel.context.path, notebook: content });
      sweep = await connection.api.sweeps.createSweep({ body: request });
      return true;
    } catch (error) {
      body.error = refusal(error, 'Could not start the sweep', 'sweeps');
      body.update();
      return false;
    }
  });
  const result = await dialog.launch();
  return result.button.accept ? sweep : null;
}
