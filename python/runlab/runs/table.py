"""The latest runs as a table: HTML in a notebook (``%runlab runs``), plain text elsewhere."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from runlab.client import Client
from runlab.config import resolve

# Cells get long with many params; the table shows this many per run, then "…".
MAX_PARAMS_SHOWN = 8
MAX_METRICS_SHOWN = 8


@dataclass(frozen=True)
class RunsTable:
    """Runs as the server listed them, newest first."""

    runs: list[dict[str, Any]]
    total: int
    project: str | None = None
    columns: tuple[str, ...] = field(default=("name", "status", "started", "params", "metrics"))

    def rows(self) -> list[dict[str, str]]:
        return [
            {
                "name": str(run.get("name", "")),
                "status": str(run.get("status", "")),
                "started": _when(run.get("startedAt")),
                "params": _pairs(run.get("params") or {}, MAX_PARAMS_SHOWN),
                "metrics": _pairs(
                    {key: _number(summary.get("latest")) for key, summary in (run.get("metrics") or {}).items()},
                    MAX_METRICS_SHOWN,
                ),
            }
            for run in self.runs
        ]

    def _caption(self) -> str:
        where = f"project {self.project}" if self.project else "all projects"
        return f"{len(self.runs)} of {self.total} runs in {where}, newest first"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(column)}</th>" for column in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(row[column])}</td>" for column in self.columns) + "</tr>"
            for row in self.rows()
        )
        return (
            f'<table class="jp-runlab-runs-table"><caption>{html.escape(self._caption())}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    def __str__(self) -> str:
        rows = self.rows()
        widths = {c: max([len(c)] + [len(r[c]) for r in rows]) for c in self.columns}
        lines = [self._caption(), "  ".join(c.ljust(widths[c]) for c in self.columns)]
        lines += ["  ".join(r[c].ljust(widths[c]) for c in self.columns) for r in rows]
        return "\n".join(line.rstrip() for line in lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def list_runs(last: int = 10, project: str | None = None) -> RunsTable:
    """The ``last`` most recent runs of the configured project (raises RunlabError if the server
    cannot answer)."""
    settings = resolve()
    project = project or settings.project
    with Client.from_settings(settings) as client:
        listing = client.list_runs(project=project, sort="startedAt:desc", limit=last)
    return RunsTable(runs=list(listing["runs"]), total=int(listing["total"]), project=project)


def _when(iso: Any) -> str:
    # ISO 8601 from the server, in UTC: the date and time to the second are enough in a table.
    return str(iso or "")[:19].replace("T", " ")


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float)) else str(value)


def _pairs(values: dict[str, Any], limit: int) -> str:
    items = [f"{key}={value}" for key, value in sorted(values.items())]
    return ", ".join(items[:limit]) + (", …" if len(items) > limit else "")
