/**
 * The sweep page's chart (recharts): each trial's objective as a dot, the best so far as a step
 * line. Loaded lazily with the first chart shown (take it from `./lazyCharts`).
 */
import React from 'react';
import { CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Scatter, Tooltip, XAxis, YAxis } from 'recharts';
import { axisProps, tooltipContentStyle } from '../shared/charts';
import { formatNumber } from '../shared/format';
import type { IObjectiveRow } from './format';

export function ObjectiveChart({ rows, objective }: { rows: readonly IObjectiveRow[]; objective: string }): JSX.Element {
  return (
    <ResponsiveContainer width="100%" height={220}>
      <ComposedChart data={rows as IObjectiveRow[]} margin={{ top: 8, right: 16, bottom: 4, left: 0 }}>
        <CartesianGrid stroke="var(--jp-border-color2)" strokeDasharray="3 3" />
        <XAxis dataKey="trial" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} {...axisProps} />
        <YAxis domain={['auto', 'auto']} tickFormatter={(value: number) => formatNumber(value)} width={64} {...axisProps} />
        <Tooltip
          contentStyle={tooltipContentStyle}
          itemStyle={{ color: 'var(--jp-ui-font-color1)' }}
          labelFormatter={(trial: number) => `trial ${trial}`}
          formatter={(value: number) => formatNumber(value)}
        />
        <Legend wrapperStyle={{ color: 'var(--jp-ui-font-color1)', fontSize: 12 }} />
        <Line type="stepAfter" dataKey="best" name="best so far" stroke="var(--jp-brand-color1)" dot={false} isAnimationActive={false} />
        <Scatter dataKey="value" name={objective} fill="var(--jp-runlab-series-1)" isAnimationActive={false} />
      </ComposedChart>
    </ResponsiveContainer>
  );
}
