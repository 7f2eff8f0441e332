import React from 'react';

/**
 * A tiny inline SVG line: cheap enough to draw in every row of a long list. Values that are not
 * finite (NaN, ±Infinity) leave a gap, as they do in the run's charts.
 */
export function Sparkline({
  values,
  width = 60,
  height = 16
}: {
  values: readonly number[];
  width?: number;
  height?: number;
}): JSX.Element | null {
  const finite = values.filter(Number.isFinite);
  if (values.length < 2 || finite.length === 0) {
    return null;
  }
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const span = max - min || 1;
  const segments: string[][] = [[]];
  values.forEach((value, i) => {
    if (!Number.isFinite(value)) {
      if (segments[segments.length - 1].length > 0) {
        segments.push([]);
      }
      return;
    }
    segments[segments.length - 1].push(
      `${((i / (values.length - 1)) * width).toFixed(1)},${(height - 1 - ((value - min) / span) * (height - 2)).toFixed(1)}`
    );
  });
  return (
    <svg className="jp-runlab-Sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} aria-hidden="true">
      {segments
        .filter((segment) => segment.length > 0)
        .map((segment, index) => (
          <polyline
            key={index}
            points={segment.length === 1 ? `${segment[0]} ${segment[0]}` : segment.join(' ')}
            fill="none"
            strokeWidth="1.2"
          />
        ))}
    </svg>
  );
}
