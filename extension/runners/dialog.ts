import { Dialog } from '@jupyterlab/apputils';
import { RunlabRequestError } from '../request';
import { describeError } from '../shared/errors';

/**
 * Why a submission failed, for the dialog's body: a 400's message with the fields it names, as
 * one sentence; a sentence thrown while building the request as it is; anything else described.
 */
export function refusal(error: unknown, action: string, api = 'runners'): string {
  if (error instanceof RunlabRequestError && error.status === 400) {
    const details = error.details.map((problem) => problem.message).filter((message) => !error.message.includes(message));
    return [error.message, ...details].join(' ');
  }
  return error instanceof RunlabRequestError ? describeError(action, error, api) : (error as Error).message;
}

/**
 * A dialog whose accept button runs `submit` first and stays open when it fails, so the user
 * can fix the value the server refused (the body shows why); Cancel and Escape close it at once.
 */
export class SubmittingDialog<T> extends Dialog<T> {
  constructor(
    options: Partial<Dialog.IOptions<T>> & { buttons: readonly Dialog.IButton[] },
    private readonly _submit: () => Promise<boolean>
  ) {
    super(options);
    this._buttonList = options.buttons;
  }

  resolve(index?: number): void {
    const button = this._buttonList[index ?? this._buttonList.length - 1];
    if (!button?.accept || this._submitted) {
      super.resolve(index);
      return;
    }
    if (this._busy) {
      return;
    }
    this._busy = true;
    void this._submit()
      .then((ok) => {
        if (ok) {
          this._submitted = true;
          super.resolve(index);
        }
      })
      .finally(() => (this._busy = false));
  }

  private readonly _buttonList: readonly Dialog.IButton[];
  private _busy = false;
  private _submitted = false;
}
