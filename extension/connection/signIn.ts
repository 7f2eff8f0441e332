/**
 * The sign-in dialog: server URL and token for a shared companion server. Both are written to
 * the user's settings, so they survive reloads and can be edited in Settings → Runlab.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { IConnectionSettings } from '../tokens';

class SignInBody extends Widget implements Dialog.IBodyWidget<Partial<IConnectionSettings>> {
  constructor(current: IConnectionSettings) {
    super({ node: document.createElement('form') });
    this.addClass('jp-runlab-SignIn');
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
export async function askForSignIn(current: IConnectionSettings): Promise<Partial<IConnectionSettings> | null> {
  const result = await showDialog({
    title: 'Sign in to a Runlab server',
    body: new SignInBody(current),
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
