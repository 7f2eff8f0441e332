/**
 * Parameters → objective as parallel coordinates: one axis per swept parameter and the objective
 * last, one line per trial with a value, coloured from the worst (faint) to the best (the theme's
 * brand colour); the best trial is drawn on top, and a click on a line opens its run. Plain SVG:
 * the axes are few and the lines at most a sweep's trials.
 */
import React from 'react';
import type { Sweep, Trial } from '../../server/src/contract';
import { formatNumber } from '../shared/format';
import { formatParameter, parallelAxes, quality } from './format';

const HEIGHT = 220;
const TOP = 16;
const BOTTOM = 28;
const SIDE = 56;
const AXIS_GAP = 150;

export function ParallelCoordinates({
  sweep,
  trials,
  openRun
}: {
  sweep: Sweep;
  trials: readonly Trial[];
  openRun(runId: string): void;
}): JSX.Element {
  const { axes, lines } = parallelAxes(sweep, trials);
  if (!lines.length) {
    return <p className="jp-runlab-Muted">Each trial with a value draws a line from its parameters to its {sweep.spec.objective}.</p>;
  }
  const width = SIDE * 2 + AXIS_GAP * (axes.length - 1);
  const x = (index: number) => SIDE + index * AXIS_GAP;
  const y = (at: number) => TOP + (1 - at) * (HEIGHT - TOP - BOTTOM);
  const values = lines.map((line) => line.trial.value as number);
  const [lowest, highest] = [Math.min(...values), Math.max(...values)];
  const bestId = sweep.best?.id;
  const ordered = [...lines].sort((a, b) => (a.trial.id === bestId ? 1 : b.trial.id === bestId ? -1 : 0));
  return (
    <div className="jp-runlab-ParallelCoordinates">
      <svg width={width} height={HEIGHT} role="img" aria-label={`${lines.length} trials: parameters and ${sweep.spec.objective}`}>
        {axes.map((axis, index) => (
          <g key={axis.name} className="jp-runlab-ParallelAxis" data-axis={axis.name}>
            <line x1={x(index)} x2={x(index)} y1={y(0)} y2={y(1)} />
            {axis.ticks.map((tick) => (
              <text key={`${tick.at}-${tick.label}`} x={x(index) - 6} y={y(tick.at) + 4} textAnchor="end">
                {tick.label}
              </text>
            ))}
            <text className="jp-runlab-ParallelAxis-name" x={x(index)} y={HEIGHT - 8} textAnchor="middle">
              {axis.name}
            </text>
          </g>
        ))}
        {ordered.map(({ trial, points }) => {
          const share = quality(trial.value as number, lowest, highest, sweep.spec.goal);
          const best = trial.id === bestId;
          const title = [
            `trial ${trial.number}: ${sweep.spec.objective} ${formatNumber(trial.value as number)}`,
            ...Object.keys(sweep.spec.params).map((name) => `${name} = ${formatParameter(trial.params[name])}`)
          ].join('\n');
          return (
            <polyline
              key={trial.id}
              className={`jp-runlab-ParallelLine${best ? ' jp-runlab-mod-best' : ''}`}
              data-trial={trial.number}
              points={points.map((at, index) => `${x(index)},${y(at)}`).join(' ')}
              style={{ strokeOpacity: 0.25 + 0.75 * share }}
              onClick={() => trial.runId && openRun(trial.runId)}
            >
              <title>{title}</title>
            </polyline>
          );
        })}
      </svg>
    </div>
  );
}
