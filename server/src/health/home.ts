/**
 * What a browser sees at the server's address (`/`): the MLflow client prints links such as
 * `<server>/#/experiments/1/runs/<id>`, and people open the server's URL to see what it is. The
 * page says what this server is, where its runs are seen (JupyterLab), and for a run link, the id
 * to open there. Static: the run id is read from the fragment by the page itself and shown as text.
 */
import { Readable } from 'node:stream';
import { RawReply } from '../http/registry';

const SCRIPT = `
const match = /^#\\/experiments\\/([^/]+)\\/runs\\/([^/?#]+)/.exec(location.hash);
if (match) {
  document.getElementById('run').hidden = false;
  document.getElementById('run-id').textContent = decodeURIComponent(match[2]);
  document.getElementById('copy').addEventListener('click', () => navigator.clipboard.writeText(decodeURIComponent(match[2])));
}`;

function page(version: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Runlab companion server</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
  body { max-width: 42rem; margin: 3rem auto; padding: 0 1rem; }
  code { font-family: ui-monospace, monospace; padding: 0 0.2em; border-radius: 3px; background: rgb(127 127 127 / 15%); }
  #run { border: 1px solid rgb(127 127 127 / 40%); border-radius: 6px; padding: 0.5rem 1rem; }
  .muted { opacity: 0.7; }
</style>
</head>
<body>
<h1>Runlab companion server</h1>
<p class="muted">Version ${version}</p>
<section id="run" hidden>
  <h2>Run <code id="run-id"></code></h2>
  <p>Runs are seen in JupyterLab: use <strong>Open Run by Id…</strong> in the Runlab menu or the command palette
  (Ctrl+Shift+C) and give this id. <button id="copy" type="button">Copy the id</button></p>
</section>
<p>This server keeps the runs, notebook versions, datasets and provenance of Runlab projects. It has no
pages of its own: open <strong>JupyterLab</strong> (<code>npm start</code> prints its address) and use the
Runs, Datasets and Runlab panels in its left sidebar.</p>
<p>Scripts log to it with <code>import runlab</code>, or with the MLflow client
(<code>MLFLOW_TRACKING_URI</code> set to this address, <code>MLFLOW_TRACKING_TOKEN</code> to a Runlab token).</p>
<p>The REST API is described at <a href="/api/openapi.json"><code>/api/openapi.json</code></a>; every route but
<a href="/api/health"><code>/api/health</code></a> needs a token (<code>npx runlab-server token create --name &lt;you&gt;</code>).</p>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** The page, with headers that keep it inert: no framing, no other scripts or connections. */
export function homePage(version: string): () => RawReply {
  const html = Buffer.from(page(version), 'utf8');
  return () =>
    new RawReply(Readable.from([html]), 'text/html; charset=utf-8', html.length, {
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff'
    });
}
