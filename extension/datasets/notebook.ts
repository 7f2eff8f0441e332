/** Reading and changing a notebook's dataset pins, and inserting loading cells. */
import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { DatasetPins, loadingSnippet, readPins, RUNLAB_METADATA_KEY, writePins } from './pins';

export function notebookPins(panel: NotebookPanel): DatasetPins {
  return readPins(panel.model?.getMetadata(RUNLAB_METADATA_KEY));
}

/** Pin `name` to `version` in the notebook (null unpins). The notebook becomes dirty, as any edit. */
export function setNotebookPin(panel: NotebookPanel, name: string, version: string | null): void {
  const model = panel.model;
  if (!model) {
    return;
  }
  const next = writePins(model.getMetadata(RUNLAB_METADATA_KEY), name, version);
  if (Object.keys(next).length) {
    model.setMetadata(RUNLAB_METADATA_KEY, next);
  } else {
    model.deleteMetadata(RUNLAB_METADATA_KEY);
  }
}

/** A new code cell below the active one that loads `name@version`; it becomes the active cell. */
export function insertLoadingCell(panel: NotebookPanel, name: string, version: string): void {
  const notebook = panel.content;
  NotebookActions.insertBelow(notebook);
  const cell = notebook.activeCell;
  if (cell) {
    if (cell.model.type !== 'code') {
      NotebookActions.changeCellType(notebook, 'code');
    }
    notebook.activeCell?.model.sharedModel.setSource(loadingSnippet(name, version));
  }
}
