/**
 * The sign-in dialog: server URL and token for a shared companion server. What it answers is
 * written to the user's settings (localServer.ts `signInSettings`), so it survives reloads and
 * can be edited in Settings → Runlab: another server is recorded as chosen on purpose, the local
 * server as "follow `npm start`".
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { IConnectionSettings } from '../tokens';
import { ILocalServer } from './localServer';

class SignInBody extends Widget implements Dialog.IBodyWidget<Partial<IConnectionSettings>> {
  constructor(current: IConnectionSettings, local: ILocalServer | null) {
    super({ node: document.createElement('form') });
    this.addClass('jp-runlab-SignIn');
    if (local) {
      const note = document.createElement('p');
      note.className = 'jp-runlab-SignIn-note';
      note.textContent =
        `The local server that \`npm start\` runs is at ${local.url}; signed in to it, Runlab follows it to ` +
        'whatever port it uses next. Another server stays in your settings until you choose “Use the local server”.';
      this.node.appendChild(note);
    }
    this._url = this._field('Server URL', 'url', current.serverUrl, 'http://127.0.0.1:8765');
    this._token = this._field('Access token', 'password', '', 'rl_u_… (leave empty to keep the current one)');
    this._project = this._field('Project', 'text', current.project, 'demo');
  }

  getValue(): Partial<IConnectionSettings> {
    const value: Partial<IConnectionSettings> = {
      serverUrl: this._url.value.trim(),
      project: this._project.value.trim()
    };
    if (this._token.value.trim()) {
      value.token = this._token.value.trim();
    }
    return value;
  }

  private _field(label: string, type: string, value: string, placeholder: string): HTMLInputElement {
    const row = document.createElement('label');
    row.className = 'jp-runlab-SignIn-row';
    row.textContent = label;
    const input = document.createElement('input');
    input.type = type;
    input.value = value;
    input.placeholder = placeholder;
    input.className = 'jp-mod-styled';
    input.setAttribute('aria-label', label);
    row.appendChild(input);
    this.node.appendChild(row);
    return input;
  }

  private _url: HTMLInputElement;
  private _token: HTMLInputElement;
  private _project: HTMLInputElement;
}

/** Ask for URL, token and project; resolves to the changes, or null when cancelled. */
export async function askForSignIn(current: IConnectionSettings, local: ILocalServer | null): Promise<Partial<IConnectionSettings> | null> {
  const result = await showDialog({
    title: 'Sign in to a Runlab server',
    body: new SignInBody(current, local),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Sign in' })],
    focusNodeSelector: 'input'
  });
  if (!result.button.accept || !result.value) {
    return null;
  }
  const url = result.value.serverUrl ?? '';
  if (url && !/^https?:\/\/[^\s/]+/.test(url)) {
    await showDialog({
      title: 'Not a server URL',
      body: `"${url}" is not an http(s) URL. Use the form http://host:port, for example http://127.0.0.1:8765.`,
      buttons: [Dialog.okButton()]
    });
    return null;
  }
  return result.value;
}
