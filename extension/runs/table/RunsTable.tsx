/**
 * The runs table: one row per run (or per group), with chosen params, metrics and tags as
 * columns; sort, filter, group, select and compare. Rows are virtualized and read a page at a
 * time, so it stays quick with 10,000 runs.
 */
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import React, { useEffect, useRef, useState } from 'react';
import { FixedSizeList, ListChildComponentProps } from 'react-window';
import type { MetricAggregate, Run, RunGroup, RunStatus } from '../../../server/src/contract';
import { formatDuration, formatNumber, formatTime } from '../../shared/format';
import { CompareButton } from '../CompareButton';
import { latest } from '../metrics';
import { ColumnId, columnField, columnKey } from './columns';
import { RunsTableModel, SortColumn } from './tableModel';
import { useElementHeight } from '../../shared/useElementHeight';

const ROW_HEIGHT = 28;
const STATUSES: RunStatus[] = ['running', 'finished', 'failed', 'killed'];
/** Fixed columns: select, name (with status), started, duration; then one per chosen column. */
const FIXED_COLUMNS = '32px 240px 170px 84px';
const VALUE_COLUMN = '130px';

export interface IRunsTableActions {
  openRun(runId: string): void;
  compare(runIds: string[]): void;
  /** The rows ticked, for "Compare Selected Runs" in the palette and menu. */
  selectionChanged?(runIds: string[]): void;
}

function cellText(run: Run, column: ColumnId): string {
  const key = columnKey(column);
  switch (columnField(column)) {
    case 'metrics':
      return latest(run.metrics[key]);
    case 'params':
      return run.params[key] ?? '—';
    default:
      return run.tags[key] ?? '—';
  }
}

/** `0.7 ± 0.2`; the sd is left out for a single value. */
export function formatAggregate(aggregate: MetricAggregate | undefined): string {
  if (!aggregate || aggregate.mean === null) {
    return '—';
  }
  return aggregate.sd === null ? formatNumber(aggregate.mean) : `${formatNumber(aggregate.mean)} ± ${formatNumber(aggregate.sd)}`;
}

function columnLabel(column: SortColumn): string {
  return column === 'startedAt' ? 'Started' : column === 'name' ? 'Name' : column === 'status' ? 'Status' : columnKey(column);
}

interface IRowData {
  model: RunsTableModel;
  columns: readonly ColumnId[];
  template: string;
  selected: { has(id: string): boolean };
  select(index: number, run: Run, range: boolean): void;
  openRun(runId: string): void;
}

function RunRow({ index, style, data }: ListChildComponentProps<IRowData>): JSX.Element {
  const run = data.model.runAt(index);
  if (!run) {
    return (
      <div style={{ ...style, gridTemplateColumns: data.template }} className="jp-runlab-RunsTable-row jp-runlab-mod-loading" role="row">
        <span />
        <span className="jp-runlab-RunsTable-placeholder">Loading…</span>
      </div>
    );
  }
  const selected = data.selected.has(run.id);
  return (
    <div
      style={{ ...style, gridTemplateColumns: data.template }}
      className={`jp-runlab-RunsTable-row${selected ? ' jp-mod-selected' : ''}`}
      role="row"
      aria-selected={selected}
      data-run-id={run.id}
      data-index={index}
    >
      <span role="cell" className="jp-runlab-RunsTable-select">
        <input
          type="checkbox"
          aria-label={`Select ${run.name}`}
          checked={selected}
          onChange={() => undefined}
          onClick={(event) => data.select(index, run, event.shiftKey)}
        />
      </span>
      <span role="cell" className="jp-runlab-RunsTable-name">
        <span className={`jp-runlab-RunStatus jp-runlab-mod-${run.status}`} title={run.status} />
        <button className="jp-runlab-RunsTable-link" onClick={() => data.openRun(run.id)} title={`Open ${run.name}`}>
          {run.name}
        </button>
      </span>
      <span role="cell" className="jp-runlab-RunsTable-muted">
        {formatTime(run.startedAt)}
      </span>
      <span role="cell" className="jp-runlab-RunsTable-number">
        {formatDuration(run)}
      </span>
      {data.columns.map((column) => (
        <span
          key={column}
          role="cell"
          data-column={column}
          className={columnField(column) === 'metrics' ? 'jp-runlab-RunsTable-number' : 'jp-runlab-RunsTable-text'}
          title={cellText(run, column)}
        >
          {cellText(run, column)}
        </span>
      ))}
    </div>
  );
}

interface IGroupData {
  groups: readonly RunGroup[];
  groupBy: ColumnId;
  columns: readonly ColumnId[];
  template: string;
  drillDown(group: RunGroup): void;
}

function GroupRow({ index, style, data }: ListChildComponentProps<IGroupData>): JSX.Element {
  const group = data.groups[index];
  const label = group.value === null ? `no ${columnKey(data.groupBy)}` : `${columnKey(data.groupBy)} = ${group.value}`;
  return (
    <div
      style={{ ...style, gridTemplateColumns: data.template }}
      className="jp-runlab-RunsTable-row jp-runlab-RunsTable-group"
      role="row"
      data-group={group.value ?? ''}
    >
      <span role="cell" />
      <span role="cell" className="jp-runlab-RunsTable-name">
        <button
          className="jp-runlab-RunsTable-link"
          disabled={group.value === null}
          title={group.value === null ? undefined : `Show the runs with ${label}`}
          onClick={() => data.drillDown(group)}
        >
          {label}
        </button>
      </span>
      <span role="cell" className="jp-runlab-RunsTable-count" data-count={group.count}>
        {group.count.toLocaleString('en-US')} run{group.count === 1 ? '' : 's'}
      </span>
      <span role="cell" />
      {data.columns.map((column) => {
        const field = columnField(column);
        const aggregate = field === 'metrics' ? group.metrics[columnKey(column)] : undefined;
        return (
          <span
            key={column}
            role="cell"
            data-column={column}
            className={field === 'metrics' ? 'jp-runlab-RunsTable-number' : 'jp-runlab-RunsTable-text'}
            title={aggregate ? `mean ± sd of ${aggregate.count} value${aggregate.count === 1 ? '' : 's'}` : undefined}
          >
            {field === 'metrics' ? formatAggregate(aggregate) : column === data.groupBy ? (group.value ?? '—') : ''}
          </span>
        );
      })}
    </div>
  );
}

function ColumnPicker({ model, onClose }: { model: RunsTableModel; onClose(): void }): JSX.Element {
  const project = model.projectName;
  const chosen = model.columns.chosen(project);
  const others = model.availableColumns.filter((column) => !chosen.includes(column));
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const close = (event: MouseEvent) => {
      if (ref.current && !ref.current.contains(event.target as Node)) {
        onClose();
      }
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, []);
  const item = (column: ColumnId, position: number | null) => (
    <li key={column} className="jp-runlab-RunsTable-pickerItem" data-column={column}>
      <label>
        <input type="checkbox" checked={position !== null} onChange={() => model.columns.toggle(project, column)} />
        <span className="jp-runlab-RunsTable-fieldName">{columnField(column).replace(/s$/, '')}</span> {columnKey(column)}
      </label>
      {position !== null && (
        <span className="jp-runlab-RunsTable-pickerMove">
          <button
            aria-label={`Move ${columnKey(column)} left`}
            disabled={position === 0}
            onClick={() => model.columns.move(project, column, -1)}
          >
            ↑
          </button>
          <button
            aria-label={`Move ${columnKey(column)} right`}
            disabled={position === chosen.length - 1}
            onClick={() => model.columns.move(project, column, 1)}
          >
            ↓
          </button>
        </span>
      )}
    </li>
  );
  return (
    <div className="jp-runlab-RunsTable-picker" ref={ref} role="dialog" aria-label="Columns">
      {chosen.length + others.length === 0 && <p className="jp-runlab-RunsTable-muted">No params, metrics or tags yet.</p>}
      <ul>
        {chosen.map((column, index) => item(column, index))}
        {others.map((column) => item(column, null))}
      </ul>
    </div>
  );
}

function FilterBar({ model }: { model: RunsTableModel }): JSX.Element {
  const [text, setText] = useState('');
  const { filters } = model.query;
  const add = (event: React.FormEvent) => {
    event.preventDefault();
    const condition = text.trim();
    if (condition && !filters.includes(condition)) {
      model.setQuery({ filters: [...filters, condition] });
    }
    setText('');
  };
  return (
    <form className="jp-runlab-RunsTable-filterBar" onSubmit={add}>
      {filters.map((filter) => (
        <span key={filter} className="jp-runlab-RunsTable-chip" data-filter={filter}>
          {filter}
          <button
            type="button"
            aria-label={`Remove filter ${filter}`}
            onClick={() => model.setQuery({ filters: filters.filter((other) => other !== filter) })}
          >
            ×
          </button>
        </span>
      ))}
      <input
        className="jp-runlab-RunsTable-filterInput"
        aria-label="Add a filter"
        placeholder="Filter: params.lr>=0.01, metrics.acc>0.9, tags.team=vision"
        value={text}
        onChange={(event) => setText(event.target.value)}
      />
      <button type="submit" className="jp-Button jp-mod-styled" disabled={!text.trim()}>
        Add
      </button>
    </form>
  );
}

function RunsTableView({ model, actions }: { model: RunsTableModel; actions: IRunsTableActions }): JSX.Element {
  const [bodyRef, height] = useElementHeight();
  const [selected, setSelected] = useState<Map<string, number>>(new Map());
  const [anchor, setAnchor] = useState<number | null>(null);
  const [picking, setPicking] = useState(false);
  const [, setTick] = useState(0);
  const project = model.projectName;
  const columns = model.columns.chosen(project);
  const { query } = model;
  const template = `${FIXED_COLUMNS} ${columns.map(() => VALUE_COLUMN).join(' ')}`;
  const width = 32 + 240 + 170 + 84 + columns.length * 130;
  const grouping = query.groupBy !== null;
  const groupable = model.availableColumns.filter((column) => columnField(column) !== 'metrics');

  // A new query is another list: a selection of rows by position no longer means anything.
  useEffect(() => setAnchor(null), [query]);
  useEffect(() => {
    const timer = window.setInterval(() => setTick((tick) => tick + 1), 1000);
    return () => window.clearInterval(timer);
  }, []);

  const select = (index: number, run: Run, range: boolean) => {
    setSelected((previous) => {
      const next = new Map(previous);
      if (range && anchor !== null) {
        const turnOn = !previous.has(run.id);
        for (let i = Math.min(anchor, index); i <= Math.max(anchor, index); i++) {
          const other = model.runAt(i);
          if (other && turnOn) {
            next.set(other.id, i);
          } else if (other) {
            next.delete(other.id);
          }
        }
      } else if (next.has(run.id)) {
        next.delete(run.id);
      } else {
        next.set(run.id, index);
      }
      return next;
    });
    setAnchor(index);
  };
  const chosen = [...selected.keys()];
  useEffect(() => actions.selectionChanged?.(chosen), [chosen.join('\n')]);

  const header = (column: SortColumn, className = '') => {
    const sorted = query.sort.column === column;
    return (
      <span
        role="columnheader"
        key={column}
        data-column={column}
        className={className}
        aria-sort={sorted ? (query.sort.direction === 'asc' ? 'ascending' : 'descending') : 'none'}
      >
        <button
          className="jp-runlab-RunsTable-sort"
          disabled={grouping}
          title={grouping ? 'Groups are ordered by value' : `Sort by ${columnLabel(column)}`}
          onClick={() => model.sortBy(column)}
        >
          {columnField(column as ColumnId) === 'params' || columnField(column as ColumnId) === 'tags' ? (
            <span className="jp-runlab-RunsTable-fieldName">{columnField(column as ColumnId).replace(/s$/, '')}</span>
          ) : null}
          {columnLabel(column)}
          {sorted && !grouping && <span aria-hidden="true">{query.sort.direction === 'asc' ? ' ▲' : ' ▼'}</span>}
        </button>
      </span>
    );
  };

  const count = grouping
    ? `${model.total.toLocaleString('en-US')} runs in ${(model.groups?.length ?? 0).toLocaleString('en-US')} groups`
    : `${model.total.toLocaleString('en-US')} run${model.total === 1 ? '' : 's'}`;

  return (
    <div className="jp-runlab-RunsTable">
      <div className="jp-runlab-RunsTable-toolbar">
        <span className="jp-runlab-RunsTable-total" aria-live="polite">
          {count}
          {model.loading ? ' …' : ''}
        </span>
        <label>
          Status{' '}
          <select
            aria-label="Status"
            value={query.status ?? ''}
            onChange={(event) => model.setQuery({ status: (event.target.value || null) as RunStatus | null })}
          >
            <option value="">any</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </label>
        <label>
          Group by{' '}
          <select
            aria-label="Group by"
            value={query.groupBy ?? ''}
            onChange={(event) => model.setQuery({ groupBy: (event.target.value || null) as ColumnId | null })}
          >
            <option value="">nothing</option>
            {groupable.map((column) => (
              <option key={column} value={column}>
                {column}
              </option>
            ))}
          </select>
        </label>
        <span className="jp-runlab-RunsTable-pickerHost">
          <button className="jp-Button jp-mod-styled" aria-expanded={picking} onClick={() => setPicking(!picking)}>
            Columns
          </button>
          {picking && <ColumnPicker model={model} onClose={() => setPicking(false)} />}
        </span>
        <span className="jp-runlab-RunsTable-spacer" />
        {chosen.length > 0 && (
          <button className="jp-Button jp-mod-styled" onClick={() => setSelected(new Map())}>
            Clear selection
          </button>
        )}
        <CompareButton
          runIds={chosen}
          className="jp-runlab-RunsTable-compare"
          hint=" (shift-click selects a range)"
          compare={(ids) => actions.compare(ids)}
        />
      </div>
      <FilterBar model={model} />
      {model.error && (
        <p className="jp-runlab-RunsTable-error" role="alert">
          {model.error}
        </p>
      )}
      <div className="jp-runlab-RunsTable-scroll" role="table" aria-label="Runs" aria-rowcount={model.total}>
        <div className="jp-runlab-RunsTable-header" role="row" style={{ gridTemplateColumns: template, width }}>
          <span role="columnheader" aria-label="Selected" />
          {header('name')}
          {header('startedAt')}
          <span role="columnheader" className="jp-runlab-RunsTable-number">
            Duration
          </span>
          {columns.map((column) => header(column, columnField(column) === 'metrics' ? 'jp-runlab-RunsTable-number' : ''))}
        </div>
        <div className="jp-runlab-RunsTable-body" ref={bodyRef} style={{ width }}>
          {grouping ? (
            <FixedSizeList
              height={height}
              width={width}
              itemCount={model.groups?.length ?? 0}
              itemSize={ROW_HEIGHT}
              itemData={{
                groups: model.groups ?? [],
                groupBy: query.groupBy!,
                columns,
                template,
                drillDown: (group: RunGroup) =>
                  model.setQuery({ groupBy: null, filters: [...query.filters, `${query.groupBy}=${group.value}`] })
              }}
            >
              {GroupRow}
            </FixedSizeList>
          ) : (
            <FixedSizeList
              height={height}
              width={width}
              itemCount={model.total}
              itemSize={ROW_HEIGHT}
              itemData={{ model, columns, template, selected, select, openRun: actions.openRun }}
              overscanCount={10}
              onItemsRendered={({ overscanStartIndex, overscanStopIndex }) => model.setVisibleRows(overscanStartIndex, overscanStopIndex)}
            >
              {RunRow}
            </FixedSizeList>
          )}
        </div>
        {!model.loading && !model.error && model.total === 0 && (
          <p className="jp-runlab-Message">
            {query.filters.length || query.status ? 'No runs match these filters.' : 'No runs in this project yet.'}
          </p>
        )}
      </div>
    </div>
  );
}

/** The table's main-area content; disposing it disposes the model. */
export class RunsTableWidget extends ReactWidget {
  constructor(
    readonly model: RunsTableModel,
    private readonly _actions: IRunsTableActions
  ) {
    super();
    this.addClass('jp-runlab-RunsTableHost');
  }

  dispose(): void {
    this.model.dispose();
    super.dispose();
  }

  protected render(): JSX.Element {
    return <UseSignal signal={this.model.changed}>{() => <RunsTableView model={this.model} actions={this._actions} />}</UseSignal>;
  }
}
