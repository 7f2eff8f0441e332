/**
 * What a sidebar list of server-owned things (runners, models, deployments) shows before it has
 * any: the error with Retry when nothing could be read, "Loading …", or its empty state. Once it
 * has items it draws them itself, with `StaleListError` above them when a later read failed.
 */
import React from 'react';
import { ErrorMessage } from './ErrorMessage';

export interface IServerList {
  readonly loading: boolean;
  readonly error: string | null;
  refresh(): Promise<void>;
}

/** null when the list has items to show (a plain function: call it before drawing the items). */
export function serverListPlaceholder({
  list,
  count,
  bodyClass,
  loadingText,
  empty
}: {
  list: IServerList;
  count: number;
  bodyClass: string;
  loadingText: string;
  empty: JSX.Element;
}): JSX.Element | null {
  if (count > 0) {
    return null;
  }
  if (list.error) {
    return (
      <div className={bodyClass}>
        <ErrorMessage message={list.error} onRetry={() => void list.refresh()} />
      </div>
    );
  }
  return list.loading ? <p className={`jp-runlab-Muted ${bodyClass}`}>{loadingText}</p> : empty;
}

/** A failed refresh while items are shown: they stay, and this says why they may be old. */
export function StaleListError({ list }: { list: IServerList }): JSX.Element | null {
  return list.error ? (
    <p className="jp-runlab-Message" role="alert">
      {list.error}
    </p>
  ) : null;
}
