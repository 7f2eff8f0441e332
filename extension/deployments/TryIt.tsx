/**
 * The try-it box: an OIP infer request (prefilled from the version's signature and input
 * example, editable), Send — from the browser straight to the deployment's endpoint — and the
 * answer: status, latency, which version answered, the body. Copy as curl gives the same request
 * for a terminal.
 */
import { Clipboard } from '@jupyterlab/apputils';
import React, { useState } from 'react';
import type { Deployment } from '../../server/src/contract';
import { latencyText } from './format';
import { answeredBy, curlCommand, inferUrl, requestText } from './tryIt';

interface IAnswer {
  status: number;
  statusText: string;
  latencyMs: number;
  version: string | null;
  body: string;
}

/** Sends `body` to `url`; a network failure (no answer at all) rejects with what to check. */
export async function sendInferRequest(url: string, body: string, deployment: Pick<Deployment, 'slots'>): Promise<IAnswer> {
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  } catch (error) {
    throw new Error(
      `No answer from ${url} (${(error as Error).message}): the endpoint is not reachable from this browser, or it refused a ` +
        'cross-origin request. Copy as curl sends the same request from a terminal on the machine that serves it.'
    );
  }
  const text = await response.text();
  const latencyMs = performance.now() - started;
  let parsed: unknown = null;
  let shown = text;
  try {
    parsed = JSON.parse(text);
    shown = requestText(parsed);
  } catch {
    // Not JSON: show it as it came.
  }
  return {
    status: response.status,
    statusText: response.statusText,
    latencyMs,
    version: answeredBy(response.headers.get('X-Runlab-Model-Version'), parsed, deployment.slots),
    body: shown
  };
}

export function TryIt({
  deployment,
  modelName,
  initialRequest
}: {
  deployment: Deployment;
  modelName: string;
  initialRequest: string;
}): JSX.Element {
  const [request, setRequest] = useState(initialRequest);
  const [answer, setAnswer] = useState<IAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [copied, setCopied] = useState<string | null>(null);
  const url = deployment.endpoint ? inferUrl(deployment.endpoint, modelName) : null;
  let invalid: string | null = null;
  try {
    JSON.parse(request);
  } catch (reason) {
    invalid = `Not JSON yet: ${(reason as Error).message}`;
  }
  const copy = (what: string, text: string) => {
    Clipboard.copyToSystem(text);
    setCopied(what);
  };
  const send = () => {
    if (!url) {
      return;
    }
    setSending(true);
    setError(null);
    sendInferRequest(url, request, deployment)
      .then(setAnswer, (reason: Error) => {
        setAnswer(null);
        setError(reason.message);
      })
      .finally(() => setSending(false));
  };
  return (
    <section className="jp-runlab-TryIt" aria-label="Try it">
      <h3 className="jp-runlab-ModelSectionTitle">Try it</h3>
      <div className="jp-runlab-TryIt-url">
        <span className="jp-runlab-Badge">POST</span> <code>{url ?? 'no endpoint yet'}</code>
      </div>
      <textarea
        className="jp-mod-styled jp-runlab-TryIt-request"
        aria-label="Infer request"
        spellCheck={false}
        rows={Math.min(16, Math.max(6, request.split('\n').length))}
        value={request}
        onChange={(event) => setRequest(event.target.value)}
        onKeyDown={(event) => {
          if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
            event.preventDefault();
            send();
          }
        }}
      />
      {invalid && <p className="jp-runlab-Muted jp-runlab-TryIt-invalid">{invalid}</p>}
      <div className="jp-runlab-Actions">
        <button
          className="jp-Button jp-mod-styled jp-mod-accept jp-runlab-Small jp-runlab-TryIt-send"
          disabled={!url || sending || !!invalid}
          title="Send the request from this browser to the endpoint (Ctrl+Enter)"
          onClick={send}
        >
          {sending ? 'Sending…' : 'Send'}
        </button>
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small jp-runlab-TryIt-curl"
          disabled={!url}
          onClick={() => url && copy('curl', curlCommand(url, request))}
        >
          {copied === 'curl' ? 'Copied' : 'Copy as curl'}
        </button>
      </div>
      {error && (
        <p className="jp-runlab-Message jp-runlab-RunForm-error" role="alert">
          {error}
        </p>
      )}
      {answer && (
        <div className="jp-runlab-TryIt-answer" data-status={answer.status}>
          <div className="jp-runlab-TryIt-facts">
            <span className="jp-runlab-Badge jp-runlab-TryIt-status" data-ok={answer.status < 400 ? 'true' : 'false'}>
              {answer.status} {answer.statusText}
            </span>
            <span className="jp-runlab-TryIt-latency">{latencyText(answer.latencyMs)}</span>
            <span className="jp-runlab-TryIt-version">{answer.version ? `answered by ${answer.version}` : 'version not reported'}</span>
          </div>
          <pre className="jp-runlab-Code jp-runlab-TryIt-body" aria-label="Response">
            {answer.body}
          </pre>
        </div>
      )}
    </section>
  );
}

/** The endpoint with a Copy button. */
export function Endpoint({ endpoint }: { endpoint: string | null }): JSX.Element {
  const [copied, setCopied] = useState(false);
  if (!endpoint) {
    return <span className="jp-runlab-Muted">endpoint not known yet</span>;
  }
  return (
    <span className="jp-runlab-Endpoint">
      <code className="jp-runlab-Endpoint-url">{endpoint}</code>
      <button
        className="jp-Button jp-mod-styled jp-runlab-Small jp-runlab-Endpoint-copy"
        title="Copy the endpoint"
        onClick={() => {
          Clipboard.copyToSystem(endpoint);
          setCopied(true);
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </span>
  );
}
