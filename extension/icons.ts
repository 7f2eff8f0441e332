import { LabIcon } from '@jupyterlab/ui-components';

/** Runlab's mark: a flask over a rising curve; `jp-icon3` follows the theme's icon colour. */
const runlabSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M9 2h6v2h-1v5.2l5.6 9.7A2 2 0 0 1 17.9 22H6.1a2 2 0 0 1-1.7-3.1L10 9.2V4H9V2zm3 9.4L8.3 18h7.4L12 11.4z"/>
  </g>
</svg>`;

export const runlabIcon = new LabIcon({ name: 'runlab:logo', svgstr: runlabSvg });

/** The Runs panel: a rising metric curve. */
const runsSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M3 3h2v16h16v2H3V3zm4 12.6l4.3-4.3 3 3L20.6 8 22 9.4l-7.7 7.7-3-3L8.4 17 7 15.6z"/>
  </g>
</svg>`;

export const runsIcon = new LabIcon({ name: 'runlab:runs', svgstr: runsSvg });
