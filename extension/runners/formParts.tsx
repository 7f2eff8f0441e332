/** Pieces the dialogs that send notebooks to runners share (Run on Runner, Sweep). */
import React, { useEffect, useRef, useState } from 'react';
import type { IRunnersModel } from './tokens';

/** Re-renders the form on each edit; the edited values object is what submit reads. */
export function useEdit(): (change: () => void) => void {
  const [, setVersion] = useState(0);
  return (change) => {
    change();
    setVersion((version) => version + 1);
  };
}

/** Why the server (or the form) refused, scrolled into view when it changes. */
export function FormError({ error }: { error: string | null }): JSX.Element | null {
  const ref = useRef<HTMLParagraphElement>(null);
  // Braces: Chromium's scrollIntoView now returns a promise, which React would take for a cleanup.
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest' });
  }, [error]);
  return error ? (
    <p ref={ref} className="jp-runlab-Message jp-runlab-RunForm-error" role="alert">
      {error}
    </p>
  ) : null;
}

/** Which runners are online, or that the work waits in the queue (`what`: "the job", "the trials"). */
export function RunnersOnline({ runners, what }: { runners: IRunnersModel; what: string }): JSX.Element {
  const online = runners.runners.filter((runner) => runner.status === 'online');
  return (
    <p className="jp-runlab-Muted jp-runlab-RunForm-runners">
      {online.length
        ? `${online.length} ${online.length === 1 ? 'runner' : 'runners'} online: ${online.map((runner) => runner.name).join(', ')}.`
        : `No runner is online now: ${what} wait${what.endsWith('s') ? '' : 's'} in the queue until one connects.`}
    </p>
  );
}
