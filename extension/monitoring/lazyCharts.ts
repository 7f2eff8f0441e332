/**
 * The Monitoring view's charts, loaded on first use: recharts (in `./charts`) is fetched with
 * the first chart shown, so it adds nothing to JupyterLab's start-up. Import from here, never
 * from `./charts` directly.
 */
import React from 'react';

export const TrafficChart = React.lazy(() => import('./charts').then((module) => ({ default: module.TrafficChart })));
export const LatencyChart = React.lazy(() => import('./charts').then((module) => ({ default: module.LatencyChart })));
export const AccuracyChart = React.lazy(() => import('./charts').then((module) => ({ default: module.AccuracyChart })));
export const HistogramChart = React.lazy(() => import('./charts').then((module) => ({ default: module.HistogramChart })));
