import React from 'react';

/** "Compare (n)": enabled from two selected runs, in the Runs panel and the runs table alike. */
export function CompareButton(props: { runIds: string[]; className: string; hint?: string; compare(runIds: string[]): void }): JSX.Element {
  const { runIds } = props;
  return (
    <button
      className={`jp-Button jp-mod-styled jp-mod-accept ${props.className}`}
      disabled={runIds.length < 2}
      title={runIds.length < 2 ? `Select two or more runs to compare${props.hint ?? ''}` : `Compare ${runIds.length} runs`}
      onClick={() => props.compare(runIds)}
    >
      Compare{runIds.length ? ` (${runIds.length})` : ''}
    </button>
  );
}
