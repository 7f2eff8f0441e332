/**
 * The datasets feature's kernel contribution: every notebook's kernel holds the notebook's
 * dataset pins (`runlab._kernel_pins`), so `runlab.dataset("iris")` loads the pinned version.
 * Sent when the client loads into the kernel and again whenever the pins in the notebook's
 * metadata change.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';
import type { IKernelContribution } from '../tokens';
import { kernelPinsExpression, readPins, RUNLAB_METADATA_KEY } from './pins';

export class DatasetPinsContribution implements IKernelContribution, IDisposable {
  readonly feature = 'datasets';

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  kernelExpression(notebook: NotebookPanel): string {
    return kernelPinsExpression(readPins(notebook.model?.getMetadata(RUNLAB_METADATA_KEY)));
  }

  watch(notebook: NotebookPanel, changed: () => void): IDisposable {
    const metadataChanged = notebook.model?.metadataChanged;
    const onMetadataChanged = (_: unknown, change: { key: string }) => {
      if (change.key === RUNLAB_METADATA_KEY) {
        changed();
      }
    };
    metadataChanged?.connect(onMetadataChanged, this);
    return new DisposableDelegate(() => metadataChanged?.disconnect(onMetadataChanged, this));
  }

  /** Stops watching every notebook. */
  dispose(): void {
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _isDisposed = false;
}
