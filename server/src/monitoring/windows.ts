/**
 * Drift windows: the logged rows of each (deployment, model version), cut into windows by rows
 * or by time (the deployment's settings). Nothing but a count is kept in memory: a window's rows
 * are the rows logged between two positions (block id, row in the block), read back from the
 * stored blocks when it closes. The last closed window records where it ended, so after a
 * restart the filling window is every row logged after that position, and windows go on where
 * they were.
 *
 * A `rows` window closes as soon as its size is reached (a block is split across windows when
 * needed); a `seconds` window opens when its first row is received and closes `size` seconds
 * later, whatever it holds (closeDue, called by a timer). Windows use the server's clock.
 */
import type { DriftWindowSpec, FeatureProfile, ReferenceProfile } from '../contract';
import type { WindowColumn } from './drift';
import { categoryAt, decodeBlock, type DecodedColumn } from './predictions';
import type { MonitoringStore } from './store';

/** Where a row is: a block and a row of it. */
export interface RowPosition {
  block: number;
  row: number;
}

export interface FillingWindow {
  deploymentId: string;
  modelVersionId: string;
  /** The index the window will have when it closes. */
  index: number;
  start: RowPosition;
  /** Just after the newest row received. */
  tail: RowPosition;
  rows: number;
  /** When its first row was received (ms), null while empty. */
  openedAt: number | null;
}

/** What closing a window hands over: its place in the stream, to read and judge. */
export interface ClosingWindow {
  deploymentId: string;
  modelVersionId: string;
  index: number;
  start: RowPosition;
  end: RowPosition;
  rows: number;
  openedAt: number;
  closedAt: number;
}

const key = (deploymentId: string, modelVersionId: string): string => `${deploymentId}\u0000${modelVersionId}`;

export class WindowTracker {
  private readonly filling = new Map<string, FillingWindow>();

  constructor(
    private readonly store: MonitoringStore,
    private readonly specOf: (deploymentId: string) => DriftWindowSpec,
    private readonly close: (window: ClosingWindow) => void
  ) {}

  /** Finds the filling window of every stream again from the stored blocks (on start). */
  restore(): void {
    for (const stream of this.store.streams()) this.windowOf(stream.deployment_id, stream.model_version_id);
  }

  fillingOf(deploymentId: string): FillingWindow[] {
    return [...this.filling.values()].filter((window) => window.deploymentId === deploymentId);
  }

  /** A block of `rows` rows was stored (received at `receivedAt`). */
  added(deploymentId: string, modelVersionId: string, blockId: number, rows: number, receivedAt: number): void {
    const window = this.windowOf(deploymentId, modelVersionId, blockId);
    const spec = this.specOf(deploymentId);
    let offset = 0;
    let remaining = rows;
    if (spec.kind === 'rows' && window.rows >= spec.size) this.closeAt(window, window.tail, receivedAt);
    while (remaining > 0) {
      window.openedAt ??= receivedAt;
      const need = spec.kind === 'rows' ? spec.size - window.rows : Number.POSITIVE_INFINITY;
      if (remaining >= need) {
        offset += need;
        remaining -= need;
        window.rows += need;
        this.closeAt(window, { block: blockId, row: offset }, receivedAt);
      } else {
        window.rows += remaining;
        offset += remaining;
        remaining = 0;
      }
    }
    window.tail = { block: blockId, row: offset };
  }

  /** Closes every `seconds` window whose time is up (and rows windows made too big by a settings change). */
  closeDue(now: number): void {
    for (const window of this.filling.values()) {
      if (window.rows === 0 || window.openedAt === null) continue;
      const spec = this.specOf(window.deploymentId);
      if (spec.kind === 'seconds' ? now >= window.openedAt + spec.size * 1000 : window.rows >= spec.size) {
        this.closeAt(window, window.tail, now);
      }
    }
  }

  private closeAt(window: FillingWindow, end: RowPosition, now: number): void {
    if (window.rows === 0) return;
    const closing: ClosingWindow = {
      deploymentId: window.deploymentId,
      modelVersionId: window.modelVersionId,
      index: window.index,
      start: window.start,
      end,
      rows: window.rows,
      openedAt: window.openedAt ?? now,
      closedAt: now
    };
    window.index += 1;
    window.start = end;
    window.tail = end;
    window.rows = 0;
    window.openedAt = null;
    this.close(closing);
  }

  private windowOf(deploymentId: string, modelVersionId: string, firstNewBlock?: number): FillingWindow {
    const id = key(deploymentId, modelVersionId);
    let window = this.filling.get(id);
    if (window) return window;
    const last = this.store.lastWindow(deploymentId, modelVersionId);
    const start = last ? { block: last.endBlock, row: last.endRow } : { block: 0, row: 0 };
    window = { deploymentId, modelVersionId, index: (last?.index ?? 0) + 1, start, tail: start, rows: 0, openedAt: null };
    // Rows logged since the last window closed (all of them before any window), except the block being added now.
    for (const block of this.store.blocksAfter(deploymentId, modelVersionId, start.block - 1)) {
      if (firstNewBlock !== undefined && block.id >= firstNewBlock) break;
      const rows = block.id === start.block ? Math.max(0, block.rows - start.row) : block.rows;
      if (rows > 0) window.openedAt ??= block.received_at;
      window.rows += rows;
      window.tail = { block: block.id, row: block.rows };
    }
    this.filling.set(id, window);
    return window;
  }
}

/** The columns of a window: every logged row from `start` to `end`, inputs and outputs apart. */
export function readWindowColumns(
  store: MonitoringStore,
  deploymentId: string,
  modelVersionId: string,
  start: RowPosition,
  end: RowPosition,
  profile: ReferenceProfile | null
): { inputs: Map<string, WindowColumn>; outputs: Map<string, WindowColumn>; rows: number } {
  const blocks = store.blocksAfter(deploymentId, modelVersionId, start.block - 1, end.block);
  const segments: { from: number; to: number; columns: Map<string, DecodedColumn> }[] = [];
  let rows = 0;
  for (const block of blocks) {
    const from = block.id === start.block ? start.row : 0;
    const to = block.id === end.block ? end.row : block.rows;
    if (to <= from) continue;
    const decoded = decodeBlock(store.blockData(block.id) as Buffer);
    const columns = new Map<string, DecodedColumn>();
    for (const column of decoded.columns) columns.set(`${column.header.role}\u0000${column.header.name}`, column);
    segments.push({ from, to, columns });
    rows += to - from;
  }
  const names = new Map<string, { role: 'input' | 'output'; name: string; categorical: boolean }>();
  for (const segment of segments) {
    for (const [id, column] of segment.columns) {
      const known = names.get(id) ?? { role: column.header.role, name: column.header.name, categorical: false };
      known.categorical ||= column.header.kind === 'categorical';
      names.set(id, known);
    }
  }
  const profileKind = (role: 'input' | 'output', name: string): FeatureProfile['kind'] | undefined =>
    (role === 'input' ? profile?.features : profile?.predictions)?.find((feature) => feature.name === name)?.kind;
  const inputs = new Map<string, WindowColumn>();
  const outputs = new Map<string, WindowColumn>();
  for (const [id, { role, name, categorical }] of names) {
    // The reference profile decides how a column is compared; without it, what was logged.
    const kind = profileKind(role, name) ?? (categorical ? 'categorical' : 'numeric');
    let column: WindowColumn;
    if (kind === 'numeric') {
      const values = new Float64Array(rows).fill(NaN);
      let at = 0;
      for (const segment of segments) {
        const source = segment.columns.get(id);
        if (source?.numbers) {
          values.set(source.numbers.subarray(segment.from, segment.to), at);
        } else if (source) {
          for (let row = segment.from; row < segment.to; row++) values[at + row - segment.from] = Number(categoryAt(source, row) ?? NaN);
        }
        at += segment.to - segment.from;
      }
      column = { kind: 'numeric', values };
    } else {
      const values: (string | null)[] = new Array(rows).fill(null);
      let at = 0;
      for (const segment of segments) {
        const source = segment.columns.get(id);
        if (source) for (let row = segment.from; row < segment.to; row++) values[at + row - segment.from] = categoryAt(source, row);
        at += segment.to - segment.from;
      }
      column = { kind: 'categorical', values };
    }
    (role === 'input' ? inputs : outputs).set(name, column);
  }
  return { inputs, outputs, rows };
}
