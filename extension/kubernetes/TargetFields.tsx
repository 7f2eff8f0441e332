/**
 * The context and namespace selects and the access check's answer, shared by the Deploy dialog
 * and Add runner pool: a quiet line when everything may be created; otherwise the missing
 * rights, by resource, so the user knows what to ask a cluster admin for.
 */
import { UseSignal } from '@jupyterlab/ui-components';
import React from 'react';
import { missingRightsByResource } from './format';
import { KubernetesTargetModel } from './targetModel';

function AccessLine({ target }: { target: KubernetesTargetModel }): JSX.Element | null {
  const access = target.access;
  if (target.checking) {
    return (
      <p className="jp-runlab-KubeAccess jp-runlab-Muted" data-state="checking" role="status">
        Checking the rights of {target.place.context} in {target.place.namespace}…
      </p>
    );
  }
  if (!access) {
    return null;
  }
  if (access.allowed) {
    return (
      <p className="jp-runlab-KubeAccess" data-state="allowed" role="status">
        <span className="jp-runlab-KubeAccess-mark" aria-hidden="true">
          ✓
        </span>{' '}
        {access.message}
      </p>
    );
  }
  return (
    <div className="jp-runlab-KubeAccess jp-runlab-KubeAccess-denied" data-state="denied" role="alert">
      <p className="jp-runlab-KubeAccess-message">{access.message}</p>
      <ul className="jp-runlab-KubeAccess-missing" aria-label="Missing rights">
        {missingRightsByResource(access.missing).map(({ resource, verbs }) => (
          <li key={resource}>
            <code>{resource}</code>: {verbs}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function TargetFields({ target }: { target: KubernetesTargetModel }): JSX.Element {
  return (
    <UseSignal signal={target.changed}>
      {() => {
        const contexts = target.contexts;
        if (contexts === null) {
          return <p className="jp-runlab-Muted">Reading the Kubernetes contexts…</p>;
        }
        if (!contexts.length) {
          return (
            <p className="jp-runlab-Message jp-runlab-KubeNoContexts" role="alert">
              {target.error ?? (target.contextsMessage || 'No Kubernetes contexts.')}
            </p>
          );
        }
        const namespaces = target.namespaces;
        return (
          <>
            <div className="jp-runlab-DeployForm-row">
              <label className="jp-runlab-Field">
                <span>Context</span>
                <select
                  className="jp-mod-styled"
                  aria-label="Kubernetes context"
                  value={target.place.context}
                  title={target.source ? `From ${target.source}` : undefined}
                  onChange={(event) => void target.setContext(event.target.value)}
                >
                  {contexts.map((context) => (
                    <option key={context.name} value={context.name}>
                      {context.name}
                      {context.current ? ' (current)' : ''}
                    </option>
                  ))}
                </select>
              </label>
              <label className="jp-runlab-Field">
                <span>Namespace</span>
                <select
                  className="jp-mod-styled"
                  aria-label="Namespace"
                  value={target.place.namespace}
                  disabled={namespaces === null}
                  onChange={(event) => void target.setNamespace(event.target.value)}
                >
                  {namespaces === null && <option value={target.place.namespace}>reading…</option>}
                  {(namespaces ?? []).map((namespace) => (
                    <option key={namespace} value={namespace}>
                      {namespace}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            {target.error && (
              <p className="jp-runlab-Message jp-runlab-RunForm-error" role="alert">
                {target.error}
              </p>
            )}
            <AccessLine target={target} />
          </>
        );
      }}
    </UseSignal>
  );
}
