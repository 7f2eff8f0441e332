/**
 * The list of projects to switch between, as the panel's switcher and the Switch Project
 * dialog show it: each project with its run count, the notebooks' project marked, the current
 * one checked. Arrow keys move the highlight, Enter picks.
 */
import { checkIcon } from '@jupyterlab/ui-components';
import React from 'react';
import type { Project } from '../../server/src/contract';
import { ICurrentProject } from '../tokens';

export function runCountLabel(count: number | null): string {
  if (count === null) {
    return '';
  }
  return count === 1 ? '1 run' : `${count.toLocaleString()} runs`;
}

export interface IProjectOptionsProps {
  model: ICurrentProject;
  projects: readonly Project[];
  /** The name highlighted (keyboard and pointer); Enter or a click picks it. */
  highlighted: string | null;
  onHighlight(name: string): void;
  onPick(name: string): void;
  /** Accessible name of the list. */
  label: string;
  autoFocus?: boolean;
}

export function ProjectOptions(props: IProjectOptionsProps): JSX.Element {
  const { model, projects, highlighted } = props;
  const names = projects.map((project) => project.name);
  const listRef = React.useRef<HTMLUListElement>(null);
  const idPrefix = React.useId();
  const optionId = (name: string) => `${idPrefix}-option-${names.indexOf(name)}`;

  React.useEffect(() => {
    if (props.autoFocus) {
      listRef.current?.focus();
    }
  }, []);
  React.useEffect(() => {
    listRef.current?.querySelector('[data-highlighted="true"]')?.scrollIntoView({ block: 'nearest' });
  }, [highlighted]);

  const onKeyDown = (event: React.KeyboardEvent) => {
    const index = highlighted === null ? -1 : names.indexOf(highlighted);
    const move = (to: number) => {
      event.preventDefault();
      if (names.length > 0) {
        props.onHighlight(names[Math.max(0, Math.min(names.length - 1, to))]);
      }
    };
    if (event.key === 'ArrowDown') {
      move(index + 1);
    } else if (event.key === 'ArrowUp') {
      move(index <= 0 ? 0 : index - 1);
    } else if (event.key === 'Home') {
      move(0);
    } else if (event.key === 'End') {
      move(names.length - 1);
    } else if (event.key === 'Enter' && highlighted !== null && names.includes(highlighted)) {
      event.preventDefault();
      event.stopPropagation();
      props.onPick(highlighted);
    }
  };

  if (projects.length === 0) {
    return <p className="jp-runlab-ProjectOptions-empty">No projects match.</p>;
  }
  return (
    <ul
      ref={listRef}
      className="jp-runlab-ProjectOptions"
      role="listbox"
      aria-label={props.label}
      tabIndex={0}
      aria-activedescendant={highlighted !== null && names.includes(highlighted) ? optionId(highlighted) : undefined}
      onKeyDown={onKeyDown}
    >
      {projects.map((project) => {
        const isCurrent = project.id === model.project?.id;
        const isNotebooks = project.name === model.notebookProjectName;
        return (
          <li
            key={project.id}
            id={optionId(project.name)}
            className="jp-runlab-ProjectOption"
            role="option"
            aria-selected={isCurrent}
            data-project={project.name}
            data-highlighted={project.name === highlighted}
            onMouseEnter={() => props.onHighlight(project.name)}
            onClick={() => props.onPick(project.name)}
          >
            <span className="jp-runlab-ProjectOption-check">{isCurrent && <checkIcon.react tag="span" />}</span>
            <span className="jp-runlab-ProjectOption-name">{project.name}</span>
            {isNotebooks && (
              <span className="jp-runlab-ProjectBadge" title="The project the notebooks’ kernels log to (Settings → Runlab)">
                notebooks
              </span>
            )}
            <span className="jp-runlab-ProjectOption-runs">{runCountLabel(model.runCount(project.id))}</span>
          </li>
        );
      })}
    </ul>
  );
}
