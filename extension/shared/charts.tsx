/**
 * Metric charts (recharts). This module is loaded lazily, on the first chart shown, so chart
 * code adds nothing to JupyterLab's start-up: views take these charts from `./lazyCharts`.
 */
import React, { useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceArea, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { MetricPoint } from '../../server/src/contract';
import { formatNumber, plottable } from './format';

interface IChartRow {
  step: number;
  value: number | null;
  /** A drawable point between two gaps (or a gap and an end, or a series of one): no line shows it, so a dot does. */
  isolated: boolean;
}

/** Chart rows: NaN and ±Infinity as null, which recharts draws as a gap in the line. */
function chartRows(points: readonly MetricPoint[]): IChartRow[] {
  const values = points.map((point) => plottable(point.value));
  const gapAt = (index: number) => index < 0 || index >= values.length || values[index] === null;
  return points.map((point, index) => ({
    step: point.step,
    value: values[index],
    isolated: values[index] !== null && gapAt(index - 1) && gapAt(index + 1)
  }));
}

/** recharts' dot renderer: a dot for isolated points only, nothing elsewhere. */
function isolatedDot(props: { cx?: number; cy?: number; index?: number; stroke?: string; payload?: IChartRow }): JSX.Element {
  const key = `dot-${props.index}`;
  if (!props.payload?.isolated || props.cx === undefined || props.cy === undefined) {
    return <g key={key} />;
  }
  return <circle key={key} className="jp-runlab-IsolatedPoint" cx={props.cx} cy={props.cy} r={2.5} fill={props.stroke} stroke="none" />;
}

export const SERIES_COLORS = 10;
const seriesColor = (index: number) => `var(--jp-runlab-series-${index % SERIES_COLORS})`;

/** Axes and tooltips in JupyterLab's colours (light and dark themes), for every Runlab chart. */
export const axisProps = {
  stroke: 'var(--jp-ui-font-color2)',
  tick: { fill: 'var(--jp-ui-font-color2)', fontSize: 11 }
};

export const tooltipContentStyle = {
  background: 'var(--jp-layout-color1)',
  border: '1px solid var(--jp-border-color1)',
  color: 'var(--jp-ui-font-color1)',
  fontSize: 12
};

const tooltipStyle = {
  contentStyle: tooltipContentStyle,
  labelFormatter: (step: number) => `step ${step}`,
  formatter: (value: number) => formatNumber(value)
};

interface IZoomProps {
  /** Called with the step range the user dragged across. */
  onZoom?(fromStep: number, toStep: number): void;
}

/** Drag across the chart to pick a step range. */
function useDragRange(onZoom?: (from: number, to: number) => void) {
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  return {
    area:
      from !== null && to !== null ? (
        <ReferenceArea x1={from} x2={to} strokeOpacity={0.3} fill="var(--jp-brand-color2)" fillOpacity={0.3} />
      ) : null,
    handlers: {
      onMouseDown: (e: { activeLabel?: string | number } | null) => e?.activeLabel !== undefined && setFrom(Number(e.activeLabel)),
      onMouseMove: (e: { activeLabel?: string | number } | null) =>
        from !== null && e?.activeLabel !== undefined && setTo(Number(e.activeLabel)),
      onMouseUp: () => {
        if (from !== null && to !== null && from !== to) {
          onZoom?.(from, to);
        }
        setFrom(null);
        setTo(null);
      }
    }
  };
}

export function MetricChart({ points, onZoom, height = 220 }: { points: MetricPoint[]; height?: number } & IZoomProps): JSX.Element {
  const drag = useDragRange(onZoom);
  return (
    <ResponsiveContainer width="100%" height={height}>
      <LineChart data={chartRows(points)} margin={{ top: 8, right: 16, bottom: 4, left: 0 }} {...drag.handlers}>
        <CartesianGrid stroke="var(--jp-border-color2)" strokeDasharray="3 3" />
        <XAxis
          dataKey="step"
          type="number"
          domain={['dataMin', 'dataMax']}
          allowDataOverflow
          padding={{ left: 6, right: 6 }}
          {...axisProps}
        />
        <YAxis domain={['auto', 'auto']} tickFormatter={formatNumber} width={56} {...axisProps} />
        <Tooltip {...tooltipStyle} />
        <Line type="linear" dataKey="value" stroke={seriesColor(0)} dot={isolatedDot} isAnimationActive={false} strokeWidth={1.5} />
        {drag.area}
      </LineChart>
    </ResponsiveContainer>
  );
}

export interface ICompareSeries {
  runId: string;
  label: string;
  points: MetricPoint[];
}

/** One line per run over the same steps. */
export function CompareChart({ series, onZoom, height = 240 }: { series: ICompareSeries[]; height?: number } & IZoomProps): JSX.Element {
  const drag = useDragRange(onZoom);
  return (
    <ResponsiveContainer width="100%" height={height}>
      <LineChart margin={{ top: 8, right: 16, bottom: 4, left: 0 }} {...drag.handlers}>
        <CartesianGrid stroke="var(--jp-border-color2)" strokeDasharray="3 3" />
        <XAxis
          dataKey="step"
          type="number"
          domain={['dataMin', 'dataMax']}
          allowDuplicatedCategory={false}
          padding={{ left: 6, right: 6 }}
          {...axisProps}
        />
        <YAxis domain={['auto', 'auto']} tickFormatter={formatNumber} width={56} {...axisProps} />
        <Tooltip {...tooltipStyle} />
        <Legend wrapperStyle={{ color: 'var(--jp-ui-font-color1)', fontSize: 12 }} />
        {series.map((s, index) => (
          <Line
            key={s.runId}
            data={chartRows(s.points)}
            dataKey="value"
            name={s.label}
            type="linear"
            stroke={seriesColor(index)}
            dot={isolatedDot}
            isAnimationActive={false}
            strokeWidth={1.5}
          />
        ))}
        {drag.area}
      </LineChart>
    </ResponsiveContainer>
  );
}
