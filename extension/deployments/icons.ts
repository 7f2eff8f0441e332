import { LabIcon } from '@jupyterlab/ui-components';

/** The Deployments panel and Deploy model: a rocket; `jp-icon3` follows the theme's icon colour. */
const deploymentsSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M12 2c3.3 1.9 5 5.2 5 9.5l2.5 2.5v5l-3.5-2H8l-3.5 2v-5L7 11.5C7 7.2 8.7 3.9 12 2zm0 5.5a2 2 0 1 0 0 4 2 2 0 0 0 0-4zM10 18h4l-.8 4h-2.4L10 18z"/>
  </g>
</svg>`;

export const deploymentsIcon = new LabIcon({ name: 'runlab:deployments', svgstr: deploymentsSvg });
