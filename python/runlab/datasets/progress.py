"""Byte progress bars for long commits and downloads (tqdm).

In a notebook the widget bar (``tqdm.auto``) is used only when ipywidgets can be imported;
without it tqdm.auto would print a warning and a broken widget, so the plain text bar is used.
Short operations show nothing: a bar appears only after ``delay`` seconds.
"""

from __future__ import annotations

import functools
import importlib.util
from typing import Any, Protocol

from runlab.format import format_bytes

# tqdm's own layout, with sizes (and the rate) written by format_bytes instead of tqdm's SI units.
_BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {size_done}/{size_total} [{elapsed}<{remaining}, {size_rate}{postfix}]"


class Progress(Protocol):
    def update(self, n: int) -> Any: ...

    def close(self) -> None: ...


class NoProgress:
    def update(self, n: int) -> None:
        return None

    def close(self) -> None:
        return None

    def set_postfix_str(self, text: str) -> None:
        return None


def byte_bar(description: str, total: int, *, enabled: bool | None, delay: float = 0.5) -> Any:
    """A bar counting bytes. ``enabled``: True shows it (when the operation is long enough),
    False never, None only on a terminal (the CLI's choice)."""
    if enabled is False or total <= 0:
        return NoProgress()
    from runlab.origin import detect_origin

    in_notebook = detect_origin().kind == "notebook"
    bar = _sized_bar(widget=in_notebook and importlib.util.find_spec("ipywidgets") is not None)
    disable = None if enabled is None else False
    return bar(
        total=total,
        desc=description,
        unit="B",
        bar_format=_BAR_FORMAT,
        delay=delay,
        disable=disable,
        leave=not in_notebook,
        dynamic_ncols=True,
    )


@functools.cache
def _sized_bar(*, widget: bool) -> type:
    """tqdm's bar (the notebook widget's, with ``widget``) filling in ``_BAR_FORMAT``'s sizes."""
    if widget:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm

    class SizedBar(tqdm):  # type: ignore[misc, valid-type]
        @property
        def format_dict(self) -> dict[str, Any]:
            values: dict[str, Any] = super().format_dict
            done, total, elapsed = values.get("n") or 0, values.get("total"), values.get("elapsed") or 0
            rate = values.get("rate")
            if rate is None and elapsed:
                rate = (done - (values.get("initial") or 0)) / elapsed
            values["size_done"] = format_bytes(done)
            values["size_total"] = format_bytes(total) if total is not None else "?"
            values["size_rate"] = f"{format_bytes(rate)}/s" if rate else "?/s"
            return values

    return SizedBar
