import { LabIcon } from '@jupyterlab/ui-components';

/** Sweeps: dots converging on a best one; `jp-icon3` follows the theme's icon colour. */
const sweepsSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <circle cx="4" cy="18" r="2"/><circle cx="9" cy="8" r="2"/><circle cx="14" cy="15" r="2"/><circle cx="19" cy="6" r="3"/>
  </g>
</svg>`;

export const sweepsIcon = new LabIcon({ name: 'runlab:sweeps', svgstr: sweepsSvg });
