/** Runlab's main-area tabs (run, compare, diff, provenance, snapshot) share one shape. */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

/** A closable main-area tab around `content`; `id` lets commands find an open one again. */
export function createMainAreaTab(content: Widget, tab: { id: string; label: string; icon: LabIcon; caption?: string }): MainAreaWidget {
  const widget = new MainAreaWidget({ content });
  widget.id = tab.id;
  widget.title.label = tab.label;
  widget.title.icon = tab.icon;
  if (tab.caption) {
    widget.title.caption = tab.caption;
  }
  widget.title.closable = true;
  return widget;
}
