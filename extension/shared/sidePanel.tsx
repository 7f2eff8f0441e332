/** Runlab's left-sidebar panels share one shape: a titled SidePanel holding one React body. */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { ReactWidget } from '@jupyterlab/apputils';
import { LabIcon, SidePanel } from '@jupyterlab/ui-components';
import type { AccordionPanel } from '@lumino/widgets';
import React from 'react';

export interface ISidePanelOptions {
  id: string;
  title: string;
  /** Accessible name and tooltip of the sidebar tab. */
  caption: string;
  icon: LabIcon;
  body: React.ReactElement;
  /** Extra class for the panel (the body gets `<panel class>Host`). */
  className?: string;
  /** Between 501 and 899: the range JupyterLab leaves for third-party side panels. */
  rank: number;
}

export function addSidePanel(app: JupyterFrontEnd, restorer: ILayoutRestorer | null, options: ISidePanelOptions): SidePanel {
  const panel = new SidePanel();
  panel.id = options.id;
  panel.addClass('jp-runlab-Panel');
  panel.title.icon = options.icon;
  panel.title.caption = options.caption;
  panel.node.setAttribute('aria-label', options.caption);
  panel.header.addWidget(ReactWidget.create(<h2 className="jp-runlab-PanelTitle">{options.title}</h2>));
  // One section per panel: its accordion title is hidden (base.css), so it must take no space
  // either, or the body starts below a blank band.
  (panel.content as AccordionPanel).titleSpace = 0;
  const body = ReactWidget.create(options.body);
  if (options.className) {
    panel.addClass(options.className);
    body.addClass(`${options.className}Host`);
  }
  panel.addWidget(body);
  app.shell.add(panel, 'left', { rank: options.rank });
  restorer?.add(panel, options.id);
  return panel;
}
