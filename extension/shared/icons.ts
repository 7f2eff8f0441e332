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

/** The Datasets panel: a stack of disks (a database cylinder). */
const datasetSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M12 2C7.6 2 4 3.3 4 5v14c0 1.7 3.6 3 8 3s8-1.3 8-3V5c0-1.7-3.6-3-8-3zm0 2c3.7 0 6 1 6 1.5S15.7 7 12 7 6 6 6 5.5 8.3 4 12 4zM6 8c1.5.7 3.7 1 6 1s4.5-.3 6-1v3c0 .5-2.3 1.5-6 1.5S6 11.5 6 11V8zm0 6c1.5.7 3.7 1 6 1s4.5-.3 6-1v4.9c0 .6-2.3 1.6-6 1.6s-6-1-6-1.6V14z"/>
  </g>
</svg>`;

export const datasetIcon = new LabIcon({ name: 'runlab:dataset', svgstr: datasetSvg });

/** Provenance: three nodes joined left to right. */
const provenanceSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M2 9h6v6H2V9zm14-6h6v6h-6V3zm0 12h6v6h-6v-6zM8 11h3V6h5v2h-3v3.5V16h3v2h-5v-5H8v-2z"/>
  </g>
</svg>`;

export const provenanceIcon = new LabIcon({ name: 'runlab:provenance', svgstr: provenanceSvg });
