/**
 * The Runlab sidebar's views. They render model state and call model methods; they never
 * fetch on their own.
 */
import { UseSignal } from '@jupyterlab/ui-components';
import React from 'react';
import { STATUS_LABELS, StatusDot } from '../shared/StatusDot';
import { ICurrentProject, IKernelClients, IRunlabConnection } from '../tokens';
import { ProjectSection } from './ProjectSection';

interface IActions {
  reconnect(): void;
  signIn(): void;
  openSettings(): void;
  useLocalServer(): void;
}

function ConnectionSection({ connection, actions }: { connection: IRunlabConnection; actions: IActions }): JSX.Element {
  return (
    <UseSignal signal={connection.stateChanged} initialArgs={connection.state}>
      {(_, state) => {
        const current = state ?? connection.state;
        return (
          <section className="jp-runlab-Section" aria-label="Connection">
            <h3 className="jp-runlab-SectionTitle">Server</h3>
            <div className="jp-runlab-ConnectionStatus" data-status={current.status}>
              <StatusDot status={current.status} />
              <span className="jp-runlab-ConnectionLabel">{STATUS_LABELS[current.status]}</span>
            </div>
            <dl className="jp-runlab-Facts">
              <dt>URL</dt>
              <dd>{current.serverUrl || '—'}</dd>
              {current.serverVersion && (
                <>
                  <dt>Version</dt>
                  <dd>{current.serverVersion}</dd>
                </>
              )}
              {current.identity && (
                <>
                  <dt>Token</dt>
                  <dd>{current.identity.name}</dd>
                </>
              )}
            </dl>
            {(current.status !== 'connected' || current.localServerUrl) && <p className="jp-runlab-Message">{current.message}</p>}
            {current.localServerUrl && (
              <div className="jp-runlab-LocalServer">
                <button
                  className="jp-Button jp-mod-styled jp-mod-accept"
                  title={`Switch the settings back to the local server at ${current.localServerUrl} and connect to it`}
                  onClick={actions.useLocalServer}
                >
                  Use the local server
                </button>
                <span className="jp-runlab-LocalServerUrl">{current.localServerUrl}</span>
              </div>
            )}
            <div className="jp-runlab-Actions">
              <button className="jp-Button jp-mod-styled jp-mod-reject" onClick={actions.reconnect}>
                Retry now
              </button>
              <button className="jp-Button jp-mod-styled jp-mod-accept" onClick={actions.signIn}>
                Sign in…
              </button>
              <button className="jp-Button jp-mod-styled jp-mod-reject" onClick={actions.openSettings}>
                Settings
              </button>
            </div>
          </section>
        );
      }}
    </UseSignal>
  );
}

function KernelSection({ kernels }: { kernels: IKernelClients }): JSX.Element {
  return (
    <UseSignal signal={kernels.changed}>
      {() => {
        const state = kernels.current;
        return (
          <section className="jp-runlab-Section" aria-label="Notebook kernel">
            <h3 className="jp-runlab-SectionTitle">Notebook kernel</h3>
            {state ? (
              <div className="jp-runlab-Kernel" data-status={state.status}>
                <div className="jp-runlab-NotebookPath">{state.notebookPath}</div>
                <p className="jp-runlab-Message">{state.message}</p>
                {state.installCommand && (
                  <pre className="jp-runlab-Command" aria-label="Install command">
                    {state.installCommand}
                  </pre>
                )}
              </div>
            ) : (
              <p className="jp-runlab-Message">Open a notebook to use Runlab from its kernel.</p>
            )}
          </section>
        );
      }}
    </UseSignal>
  );
}

export function RunlabPanelView(props: {
  connection: IRunlabConnection;
  project: ICurrentProject;
  kernels: IKernelClients | null;
  actions: IActions;
}): JSX.Element {
  return (
    <div className="jp-runlab-PanelBody">
      <ConnectionSection connection={props.connection} actions={props.actions} />
      <ProjectSection project={props.project} />
      {props.kernels && <KernelSection kernels={props.kernels} />}
    </div>
  );
}
