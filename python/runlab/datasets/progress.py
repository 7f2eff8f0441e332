"""Byte progress bars for long commits and downloads (tqdm).

In a notebook the widget bar (``tqdm.auto``) is used only when ipywidgets can be imported;
without it tqdm.auto would print a warning and a broken widget, so the plain text bar is used.
Short operations show nothing: a bar appears only after ``delay`` seconds.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Protocol


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
    from runlab.environment import detect_origin

    in_notebook = detect_origin().kind == "notebook"
    if in_notebook and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    disable = None if enabled is None else False
    return tqdm(
        total=total,
        desc=description,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        delay=delay,
        disable=disable,
        leave=False if in_notebook else True,
        dynamic_ncols=True,
    )
