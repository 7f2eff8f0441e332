/** The datasets contribution hands the kernel the notebook's pins, and follows their changes only. */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';
import { DatasetPinsContribution } from './kernelPins';
import { kernelPinsExpression } from './pins';

function fakeNotebook(metadata: Record<string, unknown>) {
  const model = {
    getMetadata: (key: string) => metadata[key],
    metadataChanged: new Signal<object, { key: string }>({})
  };
  return { panel: { model } as unknown as NotebookPanel, metadataChanged: model.metadataChanged };
}

describe('DatasetPinsContribution', () => {
  it("tells the kernel the notebook's pins", () => {
    const { panel } = fakeNotebook({ runlab: { datasets: { iris: 'v3' }, other: 1 } });
    expect(new DatasetPinsContribution().kernelExpression(panel)).toBe(kernelPinsExpression({ iris: 'v3' }));
    expect(new DatasetPinsContribution().kernelExpression(fakeNotebook({}).panel)).toBe(kernelPinsExpression({}));
  });

  it('reports changes to the runlab metadata only, until its watch is disposed', () => {
    const { panel, metadataChanged } = fakeNotebook({});
    const contribution = new DatasetPinsContribution();
    let changes = 0;
    const watch = contribution.watch(panel, () => changes++);
    metadataChanged.emit({ key: 'kernelspec' });
    metadataChanged.emit({ key: 'runlab' });
    watch.dispose();
    metadataChanged.emit({ key: 'runlab' });
    expect(changes).toBe(1);
  });
});
