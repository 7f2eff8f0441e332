/**
 * The Monitoring view's charts (recharts): traffic, latency, accuracy over time and reference
 * vs production histograms. Loaded lazily with the first chart shown (take them from
 * `./lazyCharts`), so recharts adds nothing to JupyterLab's start-up.
 */
import React from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { AccuracyPoint, FeatureHistogram } from '../../server/src/contract';
import { axisProps, tooltipContentStyle } from '../shared/charts';
import { formatNumber } from '../shared/format';
import { histogramRows, ITrafficRow } from './format';

const tooltipStyle = {
  contentStyle: tooltipContentStyle,
  itemStyle: { color: 'var(--jp-ui-font-color1)' }
};

const legendStyle = { color: 'var(--jp-ui-font-color1)', fontSize: 12 };
const minute = (at: number) => new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function TimeChart({
  rows,
  lines,
  unit,
  height = 160
}: {
  rows: readonly object[];
  lines: { key: string; name: string; color: string }[];
  unit: string;
  height?: number;
}): JSX.Element {
  return (
    <ResponsiveContainer width="100%" height={height}>
      <LineChart data={rows as object[]} margin={{ top: 8, right: 16, bottom: 4, left: 0 }}>
        <CartesianGrid stroke="var(--jp-border-color2)" strokeDasharray="3 3" />
        <XAxis dataKey="at" type="number" scale="time" domain={['dataMin', 'dataMax']} tickFormatter={minute} {...axisProps} />
        <YAxis tickFormatter={(value: number) => `${formatNumber(value)}${unit}`} width={64} {...axisProps} />
        <Tooltip
          {...tooltipStyle}
          labelFormatter={(at: number) => new Date(at).toLocaleString()}
          formatter={(value: number) => `${formatNumber(value)}${unit}`}
        />
        <Legend wrapperStyle={legendStyle} />
        {lines.map((line) => (
          <Line
            key={line.key}
            type="linear"
            dataKey={line.key}
            name={line.name}
            stroke={line.color}
            dot={rows.length === 1}
            connectNulls={false}
            isAnimationActive={false}
            strokeWidth={1.5}
          />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}

/** Requests per second and the share of 5xx answers, per minute. */
export function TrafficChart({ rows }: { rows: readonly ITrafficRow[] }): JSX.Element {
  return (
    <div className="jp-runlab-MonitoringCharts-pair">
      <TimeChart rows={rows} unit=" /s" lines={[{ key: 'requestsPerSecond', name: 'requests/s', color: 'var(--jp-runlab-series-0)' }]} />
      <TimeChart rows={rows} unit="%" lines={[{ key: 'errorPercent', name: 'server errors', color: 'var(--jp-error-color1)' }]} />
    </div>
  );
}

export function LatencyChart({ rows }: { rows: readonly ITrafficRow[] }): JSX.Element {
  return (
    <TimeChart
      rows={rows}
      unit=" ms"
      lines={[
        { key: 'p50', name: 'p50', color: 'var(--jp-runlab-series-0)' },
        { key: 'p99', name: 'p99', color: 'var(--jp-runlab-series-1)' }
      ]}
    />
  );
}

export function AccuracyChart({ points }: { points: readonly AccuracyPoint[] }): JSX.Element {
  const metric = points[0]?.metric ?? 'accuracy';
  const rows = points.map((point) => ({ at: Date.parse(point.at), value: point.value, labelledRows: point.labelledRows }));
  return <TimeChart rows={rows} unit="" lines={[{ key: 'value', name: metric, color: 'var(--jp-runlab-series-2)' }]} />;
}

/** Reference and production side by side, per bin, in percent of each one's rows. */
export function HistogramChart({
  histogram,
  currentLabel,
  height = 220
}: {
  histogram: FeatureHistogram;
  currentLabel: string;
  height?: number;
}): JSX.Element {
  return (
    <ResponsiveContainer width="100%" height={height}>
      <BarChart data={histogramRows(histogram)} margin={{ top: 8, right: 16, bottom: 4, left: 0 }} barGap={0} barCategoryGap="12%">
        <CartesianGrid stroke="var(--jp-border-color2)" strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="bin" interval="preserveStartEnd" {...axisProps} />
        <YAxis tickFormatter={(value: number) => `${formatNumber(value)}%`} width={52} {...axisProps} />
        <Tooltip
          {...tooltipStyle}
          cursor={{ fill: 'var(--jp-layout-color3)', opacity: 0.4 }}
          formatter={(value: number) => `${formatNumber(value)}%`}
        />
        <Legend wrapperStyle={legendStyle} />
        <Bar dataKey="reference" name="training (reference)" fill="var(--jp-runlab-series-0)" isAnimationActive={false} />
        <Bar dataKey="current" name={currentLabel} fill="var(--jp-warn-color1)" isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}
