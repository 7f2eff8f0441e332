/**
 * The metric charts, loaded on first use: recharts (in `./charts`) is fetched with the first
 * chart shown, so it adds nothing to JupyterLab's start-up. Import charts from here, never from
 * `./charts` directly (a static import would pull recharts into the main bundle).
 */
import React from 'react';

export const MetricChart = React.lazy(() => import('./charts').then((module) => ({ default: module.MetricChart })));
export const CompareChart = React.lazy(() => import('./charts').then((module) => ({ default: module.CompareChart })));
