import React from 'react';

/** A failure the user can retry: the message (announced), then "Try again". */
export function ErrorMessage({ message, onRetry }: { message: string; onRetry: () => void }): JSX.Element {
  return (
    <>
      <p className="jp-runlab-Message" role="alert">
        {message}
      </p>
      <button className="jp-Button jp-mod-styled" onClick={onRetry}>
        Try again
      </button>
    </>
  );
}
