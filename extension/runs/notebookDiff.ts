/**
 * Cell-by-cell diff of two notebook versions: cells are aligned by their source (jsdiff's
 * array diff), then a removed cell next to an added one counts as changed and gets a line diff.
 */
import { Change, diffArrays, diffLines } from 'diff';

export interface INotebookLike {
  cells?: { cell_type?: string; source?: string | string[] }[];
}

export interface ICellDiff {
  kind: 'same' | 'added' | 'removed' | 'changed';
  cellType: string;
  before: string | null;
  after: string | null;
  /** For `changed` cells: line-level changes from before to after. */
  lines: Change[] | null;
}

interface ICell {
  type: string;
  source: string;
}

function cellsOf(notebook: INotebookLike): ICell[] {
  return (notebook.cells ?? []).map((cell) => ({
    type: cell.cell_type ?? 'code',
    source: Array.isArray(cell.source) ? cell.source.join('') : (cell.source ?? '')
  }));
}

export function diffNotebooks(before: INotebookLike, after: INotebookLike): ICellDiff[] {
  const chunks = diffArrays(cellsOf(before), cellsOf(after), {
    comparator: (a: ICell, b: ICell) => a.type === b.type && a.source === b.source
  });
  const result: ICellDiff[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i];
    const next = chunks[i + 1];
    if (chunk.removed && next?.added) {
      // Pair removed and added cells in order: those are edits; the rest are plain adds/removes.
      const pairs = Math.min(chunk.value.length, next.value.length);
      for (let j = 0; j < pairs; j++) {
        const [a, b] = [chunk.value[j], next.value[j]];
        result.push({ kind: 'changed', cellType: b.type, before: a.source, after: b.source, lines: diffLines(a.source, b.source) });
      }
      chunk.value
        .slice(pairs)
        .forEach((a) => result.push({ kind: 'removed', cellType: a.type, before: a.source, after: null, lines: null }));
      next.value.slice(pairs).forEach((b) => result.push({ kind: 'added', cellType: b.type, before: null, after: b.source, lines: null }));
      i++;
    } else {
      for (const cell of chunk.value) {
        const kind = chunk.added ? 'added' : chunk.removed ? 'removed' : 'same';
        result.push({
          kind,
          cellType: cell.type,
          before: kind === 'added' ? null : cell.source,
          after: kind === 'removed' ? null : cell.source,
          lines: null
        });
      }
    }
  }
  return result;
}
