/**
 * The sweep page's chart, loaded on first use: recharts (in `./charts`) is fetched with the first
 * chart shown, so it adds nothing to JupyterLab's start-up. Import from here, never from
 * `./charts` directly.
 */
import React from 'react';

export const ObjectiveChart = React.lazy(() => import('./charts').then((module) => ({ default: module.ObjectiveChart })));
