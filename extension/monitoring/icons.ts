import { LabIcon } from '@jupyterlab/ui-components';

/** The Monitoring view: a pulse line; `jp-icon3` follows the theme's icon colour. */
const monitoringSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="none" stroke="#616161" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
    <path d="M2 12h4l2.5-6 4 12 3-8 1.5 2H22"/>
  </g>
</svg>`;

export const monitoringIcon = new LabIcon({ name: 'runlab:monitoring', svgstr: monitoringSvg });
