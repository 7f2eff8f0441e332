/**
 * Adding a runner: a dialog asks its name and labels; the server answers a runner token (shown
 * this once) inside the one-line command to run on the machine, which the second dialog shows
 * with a Copy button.
 */
import { Clipboard, Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import React, { useState } from 'react';
import type { AddRunnerResponse } from '../../server/src/contract';
import { describeError } from '../shared/errors';
import { SubmittingDialog } from './dialog';
import { parseLabels } from './format';
import { IRunnersModel } from './tokens';

interface IAddRunnerValues {
  name: string;
  labels: string;
}

function AddRunnerForm({ values, error }: { values: IAddRunnerValues; error: string | null }): JSX.Element {
  const [name, setName] = useState(values.name);
  const [labels, setLabels] = useState(values.labels);
  return (
    <div className="jp-runlab-RunnerForm">
      <label className="jp-runlab-Field">
        <span>Name</span>
        <input
          className="jp-mod-styled"
          aria-label="Runner name"
          placeholder="e.g. gpu-box-1"
          value={name}
          autoFocus
          onChange={(event) => setName((values.name = event.target.value))}
        />
      </label>
      <label className="jp-runlab-Field">
        <span>Labels</span>
        <input
          className="jp-mod-styled"
          aria-label="Runner labels"
          placeholder="e.g. gpu, bigmem (optional)"
          value={labels}
          onChange={(event) => setLabels((values.labels = event.target.value))}
        />
      </label>
      <p className="jp-runlab-Muted">Jobs that ask for labels only go to runners that have all of them.</p>
      {error && (
        <p className="jp-runlab-Message" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

class AddRunnerBody extends ReactWidget {
  readonly values: IAddRunnerValues = { name: '', labels: '' };
  error: string | null = null;
  constructor() {
    super();
    this.addClass('jp-runlab-RunnerDialog');
  }
  protected render(): JSX.Element {
    return <AddRunnerForm values={this.values} error={this.error} />;
  }
}

function CommandBody({ answer }: { answer: AddRunnerResponse }): JSX.Element {
  const [copied, setCopied] = useState(false);
  return (
    <div className="jp-runlab-RunnerCommand">
      <p>
        Run this on the machine that should run <strong>{answer.runner.name}</strong>&apos;s jobs (it needs Python with{' '}
        <code>pip install runlab</code>):
      </p>
      <div className="jp-runlab-CommandLine">
        <code className="jp-runlab-RunnerCommand-text">{answer.command}</code>
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small"
          onClick={() => {
            Clipboard.copyToSystem(answer.command);
            setCopied(true);
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p className="jp-runlab-Message">
        The token in this command is shown only this once: copy it now. If it is lost, remove the runner and add it again.
      </p>
    </div>
  );
}

/** Asks a name and labels, adds the runner, shows its command; null when cancelled. */
export async function addRunnerDialog(model: IRunnersModel): Promise<AddRunnerResponse | null> {
  const body = new AddRunnerBody();
  let answer: AddRunnerResponse | null = null;
  const buttons = [Dialog.cancelButton(), Dialog.okButton({ label: 'Add runner' })];
  const dialog = new SubmittingDialog<unknown>({ title: 'Add a runner', body, buttons }, async () => {
    const name = body.values.name.trim();
    if (!name) {
      body.error = 'Give the runner a name.';
      body.update();
      return false;
    }
    try {
      answer = await model.add(name, parseLabels(body.values.labels));
      return true;
    } catch (error) {
      body.error = describeError('Could not add the runner', error, 'runners');
      body.update();
      return false;
    }
  });
  const result = await dialog.launch();
  if (!result.button.accept || !answer) {
    return null;
  }
  const added: AddRunnerResponse = answer;
  await showDialog({
    title: `Start runner ${added.runner.name}`,
    body: ReactWidget.create(<CommandBody answer={added} />),
    buttons: [Dialog.okButton({ label: 'Done' })]
  });
  return added;
}
