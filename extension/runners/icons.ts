import { LabIcon } from '@jupyterlab/ui-components';

/** The Runners panel: a server rack with a play mark; `jp-icon3` follows the theme's icon colour. */
const runnersSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M3 3h18v7H3V3zm2 2v3h10V5H5zm12 0v3h2V5h-2zM3 12h9v2H5v3h7v2H3v-7zm11 0 8 5-8 5V12z"/>
  </g>
</svg>`;

export const runnersIcon = new LabIcon({ name: 'runlab:runners', svgstr: runnersSvg });
