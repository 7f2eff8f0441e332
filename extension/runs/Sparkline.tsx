import React from 'react';

/** A tiny inline SVG line: cheap enough to draw in every row of a long list. */
export function Sparkline({ values, width = 60, height = 16 }: { values: readonly number[]; width?: number; height?: number }): JSX.Element | null {
  if (values.length < 2) {
    return null;
  }
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const points = values
    .map((value, i) => `${((i / (values.length - 1)) * width).toFixed(1)},${(height - 1 - ((value - min) / span) * (height - 2)).toFixed(1)}`)
    .join(' ');
  return (
    <svg className="jp-runlab-Sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} aria-hidden="true">
      <polyline points={points} fill="none" strokeWidth="1.2" />
    </svg>
  );
}
